#!/usr/bin/env bash
# Builds residue's own image with buildah from a binary built on this machine, and checks it.
#
#   scripts/build-image.sh [--binary PATH] [--out ARCHIVE] [--check]
#
#   --binary PATH   the residue to package (default .build/release/residue)
#   --out ARCHIVE   write the image as a docker-archive (default: a temp file, removed)
#   --check         then scan the image with residue itself — the host binary and the
#                   image's own binary run inside the image (buildah run) — and fail unless
#                   both report nothing
#
# It builds the repository's Dockerfile with --build-arg ROOTFS_FROM=prebuilt: the runtime
# stage is the same as for `docker build .`, but its files come from the host-built binary
# (scripts/collect-runtime.sh) instead of the Swift build stage, which needs the network to
# pull the Swift image. buildah runs with a private --root under a temp folder: the host's
# container storage is untouched. Needs root (buildah --isolation chroot).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$HERE/.build/release/residue" out="" check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --check) check=1; shift ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "build-image: $*" >&2; exit 2; }
command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"
[ "$(id -u)" = 0 ] || die "run as root (buildah --isolation chroot)"
[ -x "$binary" ] || die "$binary not found: build residue first (swift build -c release)"

WORK="$(mktemp -d /tmp/residue-image.XXXXXX)"
cleanup() {
  local m
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf "$WORK"
}
trap cleanup EXIT
bah() { buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs "$@"; }

mkdir -p "$WORK/ctx"
cp "$HERE/Dockerfile" "$WORK/ctx/Dockerfile"
"$HERE/scripts/collect-runtime.sh" "$binary" "$WORK/ctx/rootfs"
echo "build-image: runtime files $(du -sh "$WORK/ctx/rootfs" | cut -f1), $(find "$WORK/ctx/rootfs" -type f | wc -l) files" >&2

bah build --quiet --isolation chroot --build-arg ROOTFS_FROM=prebuilt -t localhost/residue:ci \
  -f "$WORK/ctx/Dockerfile" "$WORK/ctx" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; die "buildah build failed"; }
archive="${out:-$WORK/residue-image.tar}"
rm -f "$archive"
bah push --quiet localhost/residue:ci "docker-archive:$archive:residue:ci" >/dev/null
echo "build-image: $archive ($(du -h "$archive" | cut -f1))" >&2

if [ "$check" = 1 ]; then
  # residue on its own image, from the host: nothing to report. The allowlist it is checked
  # with names the system libraries' published test keys (see the file); whatever it
  # suppresses is still counted on the summary line.
  config="$HERE/scripts/own-image.residue.toml"
  "$binary" scan "docker-archive:$archive" --config "$config" --format text || die "residue reports findings in its own image"
  # The image's own residue runs (every library is there) and reports nothing on itself.
  container="$(bah from --quiet localhost/residue:ci)"
  cp "$archive" "$WORK/run-self.tar"
  cp "$config" "$WORK/run-self.toml"
  chmod 0644 "$WORK/run-self.tar" "$WORK/run-self.toml"
  bah run --isolation chroot --volume "$WORK/run-self.tar:/work/image.tar:ro" --volume "$WORK/run-self.toml:/work/residue.toml:ro" "$container" -- \
    /usr/local/bin/residue scan /work/image.tar --config /work/residue.toml --format json >"$WORK/self.json" \
    || { cat "$WORK/self.json" >&2; die "the image's residue did not scan its own image cleanly"; }
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["findings"] == 0, d["findings"]; print("build-image: the image scanned itself: %d layers, %d files, no findings (%d suppressed by scripts/own-image.residue.toml)" % (d["summary"]["layersScanned"], d["summary"]["filesScanned"], d["summary"]["suppressed"]))' "$WORK/self.json" >&2
fi
