#!/usr/bin/env bash
# Builds residue's libFuzzer targets (Fuzz/) with AddressSanitizer and runs each for a set time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every target
#
# Seed corpora come from the fixtures (history lines, manifests/configs, small layers, the
# broken corpus, Dockerfiles, rule files) and grow under Fuzz/corpus/TARGET (not committed).
# A crash is written to Fuzz/crashes/TARGET/; turn it into a regression test and commit that.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzHistory FuzzImageJSON FuzzLayer FuzzDockerfile FuzzRules)

./scripts/install-deps.sh
# Every module: AddressSanitizer plus libFuzzer's instrumentation (-sanitize=fuzzer picks the
# inline counters libFuzzer needs); lld, because gold fails on the instrumented debug info.
# Linking libFuzzer into the rules-embedding tool is harmless: SwiftPM defines main for it, so
# libFuzzer's own main is never pulled in; the fuzz targets define NAME_main themselves.
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -use-ld=lld)
for target in "${targets[@]}"; do   # SwiftPM takes one --product per call
    swift build --package-path Fuzz -c release --scratch-path .build-fuzz "${flags[@]}" --product "$target" 2>&1 | grep -E "error|Compiling|Build" | tail -2
done

seed() { # seed TARGET: fill Fuzz/corpus/TARGET from the fixtures once
    local dir="Fuzz/corpus/$1"
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir")" ] && return 0
    case "$1" in
    FuzzHistory)
        python3 - "$dir" <<'PY'
import json, glob, os, sys, hashlib
out = sys.argv[1]
for blob in glob.glob("Fixtures/images/oci/blobs/sha256/*") + glob.glob("Fixtures/broken/*/blobs/sha256/*"):
    if os.path.getsize(blob) > 1 << 20: continue
    try: config = json.load(open(blob, "rb"))
    except Exception: continue
    for entry in config.get("history", []) if isinstance(config, dict) else []:
        line = (entry.get("created_by") or "").encode("utf-8", "surrogatepass")
        open(os.path.join(out, hashlib.sha1(line).hexdigest()), "wb").write(line)
PY
        ;;
    FuzzImageJSON)
        for blob in Fixtures/images/oci/blobs/sha256/* Fixtures/broken/*/blobs/sha256/*; do
            [ "$(stat -c %s "$blob")" -lt 65536 ] && head -c 1 "$blob" | grep -q '{' && cp "$blob" "$dir/" || true
        done ;;
    FuzzLayer)
        for blob in Fixtures/images/oci/blobs/sha256/* Fixtures/broken/*/blobs/sha256/*; do
            [ "$(stat -c %s "$blob")" -lt 200000 ] && ! head -c 1 "$blob" | grep -q '{' && cp "$blob" "$dir/" || true
        done ;;
    FuzzDockerfile)
        i=0; for f in Fixtures/dockerfiles/*/Dockerfile; do cp "$f" "$dir/df$i"; i=$((i+1)); done ;;
    FuzzRules)
        cp Rules/*.toml "$dir/" ;;
    esac
}

binary_dir=".build-fuzz/release"
# Leak checking is off: TOMLKit 0.6.0's decoder leaks the strdup'd strings of every rule file it
# reads (once per run in residue; per input here), which would stop every run on its first input.
# Crashes, overflows, use-after-free and timeouts are still caught.
# A target that finds something stops (its input is in Fuzz/crashes/TARGET/); the others still
# run, and the script exits 1 at the end. Do not pause a running fuzzer (SIGSTOP): libFuzzer
# measures its timeout in wall time and reports the paused input as a timeout.
found=0
for target in "${targets[@]}"; do
    seed "$target"
    mkdir -p "Fuzz/crashes/$target"
    echo "== $target: ${seconds}s, corpus $(ls "Fuzz/corpus/$target" | wc -l) inputs"
    ASAN_OPTIONS=detect_leaks=0 "$binary_dir/$target" "Fuzz/corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=262144 -artifact_prefix="Fuzz/crashes/$target/" -print_final_stats=1 \
        -detect_leaks=0 2>&1 \
        | grep -E "^(#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY|artifact_prefix)" | tail -4 \
        || found=1
done
exit $found
