#!/usr/bin/env bash
# Installs what residue needs to build and test, from Debian's packages. Idempotent: skips
# apt entirely when everything is already there.
set -euo pipefail

build_packages=(libarchive-dev libpcre2-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libisal-dev pkg-config)
# The keyword prefilter: Hyperscan where Debian builds it (amd64), Vectorscan (its portable fork,
# same API) elsewhere.
if [ "$(dpkg --print-architecture)" = amd64 ]; then build_packages+=(libhyperscan-dev); else build_packages+=(libvectorscan-dev); fi
# Tests and fixture rebuilds: a real builder (buildah), skopeo, busybox for the base image;
# a real registry (docker-registry), htpasswd and openssl for its auth modes, podman for the daemon API.
# Go, to build a real Go binary with a token baked in (binary scanning).
test_packages=(buildah skopeo busybox-static zstd pcre2-utils docker-registry apache2-utils openssl podman strace golang-go)

wanted=("${build_packages[@]}")
if [ "${1:-}" = "--test" ]; then
    wanted+=("${test_packages[@]}")
    # SARIF reports are validated against the official schema with Python's jsonschema
    # (Debian's package, unless one is importable already, e.g. from pip).
    python3 -c 'import jsonschema' 2>/dev/null || wanted+=(python3-jsonschema)
fi

missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
