#!/bin/sh
# Checks a run's outputs against the image on disk (the self-test workflow runs it after `uses: ./`).
# Reads IMAGE, IMAGE_SHA256, IMAGE_SIZE, CACHE_HIT, OCAML_VERSION, DEPLOYED and, for a deploy dry
# run, DEPLOY_PATH and EXPECTED_DEPLOY_PATH. Prints one line per failed check; exits 1 if any.
set -eu

failures=0

fail() {
  echo "check-outputs: $1" >&2
  failures=$((failures + 1))
}

check_image() {
  if [ ! -f "$IMAGE" ]; then
    fail "output image: '$IMAGE' is not a file"
    return
  fi
  actual_sha=$(sha256sum "$IMAGE" | cut -d' ' -f1)
  [ "$actual_sha" = "$IMAGE_SHA256" ] || fail "output image-sha256: '$IMAGE_SHA256', but the image's is $actual_sha"
  actual_size=$(wc -c <"$IMAGE" | tr -d ' ')
  [ "$actual_size" = "$IMAGE_SIZE" ] || fail "output image-size: '$IMAGE_SIZE', but the image has $actual_size bytes"
}

check_setup() {
  case "$CACHE_HIT" in
    exact | partial | miss) ;;
    *) fail "output cache-hit: '$CACHE_HIT' is not exact, partial or miss" ;;
  esac
  echo "$OCAML_VERSION" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+' || fail "output ocaml-version: '$OCAML_VERSION' is not a version"
}

check_deploy() {
  [ "$DEPLOYED" = false ] || fail "output deployed: '$DEPLOYED', but nothing is deployed by this run"
  if [ -n "${EXPECTED_DEPLOY_PATH:-}" ]; then
    [ "${DEPLOY_PATH:-}" = "$EXPECTED_DEPLOY_PATH" ] || fail "output deploy-path: '${DEPLOY_PATH:-}', expected $EXPECTED_DEPLOY_PATH"
  fi
}

check_image
check_setup
check_deploy
if [ "$failures" -gt 0 ]; then exit 1; fi
echo "check-outputs: image $IMAGE ($IMAGE_SIZE bytes, sha256 $IMAGE_SHA256), OCaml $OCAML_VERSION, cache $CACHE_HIT"
