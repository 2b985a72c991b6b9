#!/usr/bin/env bash
# Gathers what residue needs at run time into a root filesystem folder: the binary, the
# shared libraries it loads (as ldd resolves them, with the dynamic loader) and the CA bundle
# (for docker:// registries over TLS). Nothing else: no shell, no package manager, no rules
# (they are built into the binary).
#
#   scripts/collect-runtime.sh BINARY ROOTFS
#
# Used by the Dockerfile's build stage and by scripts/build-image.sh (CI).
set -euo pipefail
binary="$1" rootfs="$2"
[ -x "$binary" ] || { echo "collect-runtime: $binary is not an executable" >&2; exit 2; }

mkdir -p "$rootfs/usr/local/bin"
install -m 0755 "$binary" "$rootfs/usr/local/bin/residue"
# Symbols are not needed to run (Swift keeps its metadata in sections strip leaves alone).
if command -v strip >/dev/null; then strip "$rootfs/usr/local/bin/residue"; fi

# Every library ldd resolves (`name => /path (addr)`) and the loader (`/lib64/ld-linux… (addr)`),
# copied to the same path, symlinks dereferenced.
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
while read -r library; do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done
# The loader is found through /lib64 on x86-64, through /lib on arm64: keep the path ldd named,
# and the canonical one if it differs (a merged-/usr Debian links /lib64 -> usr/lib64).
loader="$(ldd "$binary" | awk '$1 ~ /^\/.*ld-linux/ { print $1 }' | head -n1)"
if [ -n "$loader" ]; then
  real="$(readlink -f "$loader")"
  mkdir -p "$rootfs$(dirname "$real")"
  [ -e "$rootfs$real" ] || cp -L "$loader" "$rootfs$real"
fi

# Swift libraries found through the binary's RUNPATH (e.g. /opt/swift/usr/lib/swift/linux)
# are at the same absolute path in the image, so the RUNPATH still finds them.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$rootfs/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
# A place for --output when the image runs read-only with a tmpfs, and a working folder.
mkdir -p "$rootfs/tmp" "$rootfs/work"
chmod 1777 "$rootfs/tmp"
