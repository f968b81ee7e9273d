#!/bin/sh
# `npm run albatross:install`: on a machine with network access, builds the albatross and solo5
# the albatross tests run (the versions of ../shared/albatross: albatross 2.7.2, solo5 0.10.0) with
# opam, in a switch of its own under .tmp/, and fills .tmp/albatross/{bin,images}, where
# __tests__/support/albatross.ts looks for them. Needs opam, a C compiler, libseccomp-dev, libev-dev
# and libgmp-dev. Run it once; it leaves the user's opam root alone.
set -eu

ALBATROSS_VERSION=2.7.2
SOLO5_VERSION=0.10.0

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/.tmp/albatross-build"
dest="$root/.tmp/albatross"
OPAMROOT="$work/opam-root"
OPAMYES=1
export OPAMROOT OPAMYES

fail() {
  echo "albatross:install: $1" >&2
  exit 1
}

make_switch() {
  command -v opam >/dev/null 2>&1 || fail "opam is not on PATH; install it first (https://opam.ocaml.org/doc/Install.html)"
  [ -d "$OPAMROOT" ] || opam init --bare --no-setup --disable-sandboxing >/dev/null
  opam switch list --short 2>/dev/null | grep -qx albatross ||
    opam switch create albatross ocaml-base-compiler.4.14.2 >/dev/null
}

install_binaries() {
  opam install --switch=albatross "albatross.$ALBATROSS_VERSION" "solo5.$SOLO5_VERSION" ||
    fail "opam could not install albatross $ALBATROSS_VERSION and solo5 $SOLO5_VERSION (see above)"
  prefix=$(opam var --switch=albatross prefix)
  mkdir -p "$dest/bin"
  for b in albatrossd albatross-console albatross-client albatross-tls-endpoint solo5-spt solo5-hvt solo5-elftool; do
    [ -x "$prefix/bin/$b" ] || fail "$b is not in $prefix/bin after the install"
    cp "$prefix/bin/$b" "$dest/bin/$b"
  done
}

# solo5's test unikernels are not installed by its opam package: built from its source.
build_images() {
  rm -rf "$work/solo5"
  opam source --switch=albatross "solo5.$SOLO5_VERSION" --dir="$work/solo5" >/dev/null
  make -C "$work/solo5" >/dev/null || fail "building solo5's tests failed in $work/solo5 (see above)"
  mkdir -p "$dest/images"
  for t in test_hello test_exception test_net; do
    cp "$work/solo5/tests/$t/$t.spt" "$dest/images/$t.spt"
  done
  cp "$work/solo5/tests/test_hello/test_hello.hvt" "$dest/images/test_hello.hvt"
}

make_switch
install_binaries
build_images
echo "albatross:install: albatross $ALBATROSS_VERSION and solo5 $SOLO5_VERSION in $dest"
