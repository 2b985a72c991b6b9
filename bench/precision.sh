#!/bin/sh
# Precision benchmark: findings per GB on real benign content (Debian's Python, docs, headers,
# shared libraries, Node modules, PyPI packages, a Go binary) and planted-secret recall, in one
# run. Usage: bench/precision.sh [--peers [gitleaks,kingfisher,trivy]] [--quiet]   (RESIDUE=path/to/residue to pick a build)
# Optional: fill $RESIDUE_BENCH_CACHE/wheels/site-packages first with real packages:
#   pip install --no-deps --target /tmp/residue-bench/wheels/site-packages botocore boto3 requests django cryptography
set -eu
cd "$(dirname "$0")/.."
exec python3 bench/precision.py "$@"
