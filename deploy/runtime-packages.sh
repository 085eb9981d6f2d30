#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary loads, one per line,
# sorted: what a runtime image needs besides the binary. Used by the Dockerfile's build stage
# (so the runtime stage installs exactly these) and by scripts/validate_deploy.sh.
#   deploy/runtime-packages.sh build/release/app/orderd
# Fails when a library is missing or no installed Debian package provides it.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
  echo "usage: $0 BINARY (an executable)" >&2
  exit 2
fi

libs=$(ldd "$1")
if grep -q 'not found' <<<"$libs"; then
  echo "runtime-packages: unresolved libraries:" >&2
  grep 'not found' <<<"$libs" >&2
  exit 1
fi

# ldd: "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)". With Debian 12's merged /usr,
# dpkg may know a file under /lib, /usr/lib or only its resolved name: try all three.
awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$libs" | while read -r lib; do
  pkg=
  for candidate in "$lib" "/usr$lib" "$(readlink -f "$lib")"; do
    pkg=$(dpkg-query -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1 | cut -d, -f1 || true)
    [[ -n "$pkg" ]] && break
  done
  if [[ -z "$pkg" ]]; then
    echo "runtime-packages: no installed Debian package provides $lib" >&2
    exit 1
  fi
  echo "$pkg"
done | sort -u
