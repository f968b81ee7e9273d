#!/usr/bin/env bash
# Fails when dist/ differs from a fresh bundle of src/: the runner executes dist/, not src/.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
node scripts/bundle.mjs --outdir "$fresh/dist"
if ! diff -r dist "$fresh/dist" >/dev/null; then
  echo "dist/ is out of date with src/: run 'npm run bundle' and commit dist/." >&2
  diff -rq dist "$fresh/dist" >&2 || true
  exit 1
fi
echo "dist/ matches a fresh bundle of src/."
