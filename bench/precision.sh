#!/bin/sh
# Precision benchmark (issue 16): noise findings per GB on ~1.3 GB of real third-party content
# (Go stdlib and module sources with the AWS SDK for Go, TypeScript and other Node packages, Ruby
# stdlib and gems, Perl, Boost headers, Rust crates, Java jars, CA bundles, PyPI packages, Python's
# stdlib) and planted-secret recall, residue beside gitleaks and Kingfisher in one run.
# Usage: bench/precision.sh [--install] [--peers [gitleaks,kingfisher,trivy]] [--quiet] [--keys-as-noise]
#   RESIDUE=path/to/residue picks a build; --install apt-installs the Debian packages, pip-installs the
#   pinned wheels into $RESIDUE_BENCH_CACHE (default /tmp/residue-bench) and, with --peers, the peers
#   into the venv /tmp/peers. Kingfisher's own rule files: --kingfisher-rules DIR (or KINGFISHER_RULES=),
#   default /tmp/kingfisher-rules/data/rules (data/rules of the mongodb/kingfisher repository).
set -eu
cd "$(dirname "$0")/.."
exec python3 bench/precision.py "$@"
