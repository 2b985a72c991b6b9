#!/usr/bin/env bash
# Rebuild the fixture images of residue from Fixtures/dockerfiles/ into Fixtures/images/.
#
#   Fixtures/build.sh                    rebuild everything, replace Fixtures/images/
#   Fixtures/build.sh --out DIR          rebuild everything into DIR (Fixtures/images/ untouched)
#   Fixtures/build.sh --check NAME [DIR] rebuild NAME (and what it needs) into DIR (default: a
#                                        temp folder) and compare it with the committed one:
#                                        exit 0 when byte-identical, 1 when not
#   Fixtures/build.sh --check all [DIR]  the same for every fixture
#   Fixtures/build.sh --list             the names --check accepts
#
# NAME is a ref of the shared OCI layout (images/oci, e.g. build-arg, nested-index) or an
# archive file name (e.g. legacy.docker.tar).
#
# Needs (Debian 12): buildah, skopeo, busybox-static, python3, zstd. No network: every image
# starts FROM scratch or from the local base built from /bin/busybox. buildah runs with a
# private --root/--runroot under a temp folder, so the host's container storage is untouched,
# and --timestamp 0, so a rebuild gives byte-identical output.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOCKERFILES="$HERE/dockerfiles"
COMMITTED="$HERE/images"

# Built by buildah and exported as refs of images/oci, in this order.
BUILT=(base build-arg env copy-rm overwritten opaque nested label-cmd credential-files
       zstd multi-platform clean-secret-mount clean-multistage)
# Built by buildah as sources of make_variants.py; not exported as they are.
SOURCES=(buildkit lying-mediatype)
# Written by make_variants.py.
VARIANT_REFS=(buildkit nested-index lying-mediatype)
ARCHIVES=(legacy.docker.tar docker25.docker.tar env.oci.tar build-arg.docker.tar)

export LC_ALL=C TZ=UTC
umask 022

die() { echo "build.sh: $*" >&2; exit 2; }

for tool in buildah skopeo python3 zstd; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install buildah skopeo python3 zstd busybox-static)"
done
BUSYBOX="${BUSYBOX:-/bin/busybox}"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
[ "$(id -u)" = 0 ] || die "run as root (buildah --isolation chroot and the overlay driver need it)"

# ---------------------------------------------------------------------------------------
# what each fixture needs
# ---------------------------------------------------------------------------------------
from_scratch() { case "$1" in zstd|multi-platform|lying-mediatype) return 0 ;; esac; return 1; }

# deps NAME -> the buildah fixtures (and sources) that NAME needs
deps() {
  case "$1" in
    legacy.docker.tar) echo copy-rm ;;
    docker25.docker.tar|build-arg.docker.tar) echo build-arg ;;
    env.oci.tar) echo env ;;
    nested-index) echo multi-platform ;;
    buildkit|lying-mediatype) echo "$1" ;;
    *) echo "$1" ;;
  esac
}

is_known() {
  local n
  for n in "${BUILT[@]}" "${VARIANT_REFS[@]}" "${ARCHIVES[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

# ---------------------------------------------------------------------------------------
# buildah plumbing
# ---------------------------------------------------------------------------------------
WORK=""
cleanup() {
  [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
  # the overlay driver leaves its private bind mounts behind: unmount them (deepest first)
  local m
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf "$WORK"
}
trap cleanup EXIT

driver_of() { [ "$1" = opaque ] && echo overlay || echo vfs; }

bah() { # bah DRIVER buildah-args...
  local d="$1"; shift
  buildah --root "$WORK/storage-$d" --runroot "$WORK/run-$d" --storage-driver "$d" "$@"
}

store_ref() { # store_ref DRIVER NAME -> skopeo source reference
  echo "containers-storage:[$1@$WORK/storage-$1+$WORK/run-$1]localhost/residue/$2:latest"
}

# Copy a build context to $WORK/ctx/NAME with normalised modes: COPY keeps file modes, and a
# git checkout's modes follow the umask, so without this a layer digest would depend on it.
stage() {
  local name="$1" dst="$WORK/ctx/$1"
  rm -rf "$dst"; mkdir -p "$WORK/ctx"
  cp -R "$DOCKERFILES/$name" "$dst"
  find "$dst" -type d -exec chmod 0755 {} +
  find "$dst" -type f -exec chmod 0644 {} +
  case "$name" in
    base) cp "$BUSYBOX" "$dst/busybox"; chmod 0755 "$dst/busybox" ;;
    nested) python3 "$dst/make_archives.py" "$dst" ;;
  esac
}

build_args() { # --build-arg flags from dockerfiles/NAME/build-args.env
  local f="$DOCKERFILES/$1/build-args.env" line
  [ -f "$f" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] || [ "${line:0:1}" = "#" ] || printf '%s\0' --build-arg "$line"
  done < "$f"
}

bud() { # bud DRIVER NAME extra-args...
  local d="$1" name="$2"; shift 2
  local args=()
  mapfile -d '' args < <(build_args "$name")
  bah "$d" bud --layers --timestamp 0 --isolation chroot --pull=never --quiet \
    ${args[@]+"${args[@]}"} "$@" -f "$WORK/ctx/$name/Dockerfile" "$WORK/ctx/$name" >/dev/null
}

declare -A BASE_DONE=()
build_base() { # into the store of DRIVER
  local d="$1"
  [ -n "${BASE_DONE[$d]:-}" ] && return 0
  stage base
  bud "$d" base -t localhost/residue-base:latest
  BASE_DONE[$d]=1
}

declare -A BUILT_DONE=()
build_one() { # build_one NAME: buildah build of dockerfiles/NAME into local storage
  local name="$1" d
  [ -n "${BUILT_DONE[$name]:-}" ] && return 0
  d="$(driver_of "$name")"
  from_scratch "$name" || build_base "$d"
  stage "$name"
  case "$name" in
    base) ;; # built by build_base
    multi-platform)
      local p
      for p in linux/amd64 linux/arm64; do
        bud "$d" "$name" --platform "$p" --manifest localhost/residue/multi-platform:latest
      done ;;
    clean-secret-mount)
      bud "$d" "$name" --secret "id=npmrc,src=$WORK/ctx/$name/npmrc.secret" -t "localhost/residue/$name:latest" ;;
    *)
      bud "$d" "$name" -t "localhost/residue/$name:latest" ;;
  esac
  BUILT_DONE[$name]=1
}

export_one() { # export_one NAME OUT: into the shared layout OUT/oci as ref NAME
  local name="$1" out="$2" d
  d="$(driver_of "$name")"
  case "$name" in
    base)
      skopeo copy -q "containers-storage:[$d@$WORK/storage-$d+$WORK/run-$d]localhost/residue-base:latest" "oci:$out/oci:base" ;;
    zstd)
      skopeo copy -q --dest-compress --dest-compress-format zstd "$(store_ref "$d" "$name")" "oci:$out/oci:$name" ;;
    multi-platform)
      bah "$d" manifest push --all --format oci localhost/residue/multi-platform:latest "oci:$out/oci:$name" \
        >"$WORK/push.log" 2>&1 || { cat "$WORK/push.log" >&2; return 1; } ;;
    *)
      skopeo copy -q "$(store_ref "$d" "$name")" "oci:$out/oci:$name" ;;
  esac
}

# ---------------------------------------------------------------------------------------
# one run: build NAMES (or everything) into OUT
# ---------------------------------------------------------------------------------------
run_build() { # run_build OUT NAME...  (no NAME: everything)
  local out="$1"; shift
  local want=("$@") everything=0 n
  [ ${#want[@]} -eq 0 ] && everything=1
  rm -rf "$out"; mkdir -p "$out"

  local needed=()
  if [ $everything = 1 ]; then
    needed=("${BUILT[@]}" "${SOURCES[@]}")
  else
    for n in "${want[@]}"; do needed+=($(deps "$n")); done
  fi

  local src="$WORK/sources"
  for n in "${needed[@]}"; do
    build_one "$n"
    case " ${SOURCES[*]} " in
      *" $n "*) export_one_source "$n" "$src" ;;
      *) export_one "$n" "$out" ;;
    esac
  done

  # plain archives written by skopeo
  if [ $everything = 1 ] || printf '%s\n' "${want[@]}" | grep -qx 'build-arg.docker.tar'; then
    skopeo copy -q "$(store_ref vfs build-arg)" "docker-archive:$out/build-arg.docker.tar:residue/build-arg:latest"
  fi
  if [ $everything = 1 ] || printf '%s\n' "${want[@]}" | grep -qx 'env.oci.tar'; then
    # skopeo's oci-archive keeps its temp folder's mtimes: make_variants.py rewrites the tar
    # with mtime 0 (same members, same order, same bytes inside)
    skopeo copy -q "$(store_ref vfs env)" "oci-archive:$WORK/env.skopeo.oci.tar:env"
  fi

  local variant_args=(--out "$out" --sources "$src")
  [ -f "$WORK/env.skopeo.oci.tar" ] && variant_args+=(--skopeo-oci-archive "$WORK/env.skopeo.oci.tar")
  if [ $everything = 1 ]; then
    python3 "$HERE/make_variants.py" "${variant_args[@]}"
  else
    python3 "$HERE/make_variants.py" "${variant_args[@]}" --only "${want[@]}"
  fi
}

export_one_source() { # the sources of make_variants.py go to their own layout
  local name="$1" src="$2"
  mkdir -p "$src"
  skopeo copy -q "$(store_ref "$(driver_of "$name")" "$name")" "oci:$src/$name:$name"
}

# ---------------------------------------------------------------------------------------
# compare a rebuilt NAME with the committed one
# ---------------------------------------------------------------------------------------
ref_digest() { # ref_digest LAYOUT REF
  python3 - "$1" "$2" <<'EOF'
import json, sys
index = json.load(open(sys.argv[1] + "/index.json"))
for m in index["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"]); break
EOF
}

compare_one() { # compare_one NAME OUT -> 0 same, 1 different
  local name="$1" out="$2" a b
  case "$name" in
    *.tar)
      a="$(sha256sum < "$COMMITTED/$name" | cut -d' ' -f1)"
      b="$(sha256sum < "$out/$name" | cut -d' ' -f1)" ;;
    *)
      a="$(ref_digest "$COMMITTED/oci" "$name")"
      b="$(ref_digest "$out/oci" "$name")"
      [ -n "$b" ] && python3 "$HERE/verify.py" --blobs-only --images "$out" >/dev/null ;;
  esac
  if [ -n "$a" ] && [ "$a" = "$b" ]; then
    echo "ok      $name  $a"
  else
    echo "DIFFERS $name  committed=${a:-missing} rebuilt=${b:-missing}"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------
main() {
  local mode=build out="" check=""
  case "${1:-}" in
    --check) mode=check; check="${2:-}"; out="${3:-}"; [ -n "$check" ] || die "usage: build.sh --check NAME|all [OUTDIR]" ;;
    --out) out="${2:-}"; [ -n "$out" ] || die "usage: build.sh --out DIR" ;;
    --list) printf '%s\n' "${BUILT[@]}" "${VARIANT_REFS[@]}" "${ARCHIVES[@]}"; return 0 ;;
    -h|--help) sed -n '2,20p' "$0"; return 0 ;;
    "") ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac

  WORK="$(mktemp -d "${TMPDIR:-/tmp}/residue-fixtures.XXXXXX")"
  local start=$SECONDS

  if [ $mode = check ]; then
    [ -d "$COMMITTED/oci" ] || die "no committed images in $COMMITTED"
    local names=() n rc=0
    if [ "$check" = all ]; then names=("${BUILT[@]}" "${VARIANT_REFS[@]}" "${ARCHIVES[@]}")
    else is_known "$check" || die "unknown fixture $check (see --list)"; names=("$check"); fi
    [ -n "$out" ] || out="$WORK/out"
    if [ "$check" = all ]; then run_build "$out"; else run_build "$out" "$check"; fi
    for n in "${names[@]}"; do compare_one "$n" "$out" || rc=1; done
    if [ "$check" = all ]; then
      python3 "$HERE/verify.py" --images "$out" --expected "$HERE/expected.json" || rc=1
    fi
    echo "build.sh: checked in $((SECONDS - start)) s"
    return $rc
  fi

  local target="${out:-$COMMITTED}"
  run_build "$WORK/out"
  python3 "$HERE/verify.py" --images "$WORK/out" --expected "$HERE/expected.json"
  rm -rf "$target"
  mkdir -p "$(dirname "$target")"
  cp -R "$WORK/out" "$target"
  echo "build.sh: wrote $target in $((SECONDS - start)) s ($(du -sh "$target" | cut -f1))"
}

main "$@"
