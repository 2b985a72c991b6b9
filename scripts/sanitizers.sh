#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and ThreadSanitizer, each in its own build
# folder (.build-asan, .build-tsan). Slow (two extra full builds): run it before a release or
# after touching the C bindings or the threading, not in every CI run.
#
#   scripts/sanitizers.sh [address|thread ...]     default: both
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(address thread)
# Leak checking is off: TOMLKit 0.6.0 leaks the strings it decodes from every rule file (once
# per run), and LeakSanitizer's exit code would fail every test that runs the binary. Memory
# errors (overflows, use-after-free, double free) and data races are still fatal.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
status=0
for kind in "${kinds[@]}"; do
    scratch=".build-${kind:0:1}san"
    export RESIDUE_SANITIZER="$kind"   # OwnImageTests skips: the image ships the plain binary
    echo "== $kind sanitizer ($scratch)"
    swift build --build-tests --sanitize="$kind" --scratch-path "$scratch" 2>&1 | grep -E "error|Build complete" | tail -3
    # The CLI tests run the sanitized residue binary too: a report from it fails its test.
    if ! swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" 2>&1 | tee "/tmp/residue-$kind.log" \
        | grep -E "Executed [0-9]+ tests|ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer" | tail -5; then
        status=1
    fi
    grep -qE "ERROR: AddressSanitizer|WARNING: ThreadSanitizer" "/tmp/residue-$kind.log" && status=1
    grep -qE "with [1-9][0-9]* failures" "/tmp/residue-$kind.log" && status=1
done
exit $status
