#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the tests and the example need: real opam and OCaml (used as
# ocaml-system), bubblewrap for opam's sandbox, OpenSSH for the loopback sshd, git, and the
# compressors the deploy step uses, dune (Debian's 2.9) for the test of what the path map covers,
# and the runtime libraries of the prebuilt albatross and solo5 binaries the albatross tests run
# (libev4, libgmp10, libseccomp2). Skips apt entirely when everything is already there.
set -euo pipefail
packages=(opam ocaml-nox ocaml-dune bubblewrap openssh-server openssh-client git bzip2 xz-utils gzip make m4 patch unzip rsync ca-certificates shellcheck libev4 libgmp10 libseccomp2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
