#!/usr/bin/env bash
# make bench: how fast residue scans a large image, against the floor of decompressing it.
#
# Builds (once, cached) an OCI image from real files of this machine — about 1.5 GB over 11
# gzip layers, one 260 MB binary, 8 planted secrets (bench/make_image.py) — and an uncompressed
# copy of it, then prints in one run: residue's wall time, MB/s and peak RSS on 1 and 2 cores;
# plain decompression of the same layers, one thread, two ways (bench/inflate.c): libarchive
# alone, whose gzip filter is zlib (what `gzip -d` and most tools use), and ISA-L + libarchive,
# exactly how residue reads them; residue's ratio to each; cold vs warm cache; the detector
# alone; findings found/planted.
#
# Environment: BENCH_DIR (default ${XDG_CACHE_HOME:-~/.cache}/residue-bench), BENCH_RUNS (3:
# each time is the best of that many runs; the machine may be shared), TRIVY (a trivy binary:
# also times Trivy's secret scanner on the same image, cold cache, and counts the planted
# secrets it reports; never installed by this script).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bench=${BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/residue-bench}
runs=${BENCH_RUNS:-3}

./scripts/install-deps.sh
if [ ! -x /usr/bin/time ] || ! command -v cc >/dev/null; then
    SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
    $SUDO apt-get install -y -qq --no-install-recommends time gcc libc6-dev >/dev/null
fi
swift build -c release 2>&1 | tail -1
residue=$root/.build/release/residue

mkdir -p "$bench/bin"
stamp=$(cat bench/make_image.py bench/plain_copy.py | sha256sum | cut -c1-16)
if [ "$(cat "$bench/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "building the benchmark image in $bench (once; about a minute)…"
    python3 bench/make_image.py "$bench/image"
    python3 bench/plain_copy.py "$bench/image" "$bench/plain"
    echo "$stamp" > "$bench/stamp"
fi
cc -O2 -o "$bench/bin/inflate" bench/inflate.c -larchive -lisal

cd "$bench"
gzip_layers=$(sed 's|^|image/|' image/layers.txt | cut -d' ' -f1)
plain_layers=$(sed 's|^|plain/|' plain/layers.txt | cut -d' ' -f1)
raw_bytes=$(awk '{ s += $2 } END { print s }' image/layers.txt)
packed_bytes=$(du -cb $gzip_layers | tail -1 | cut -f1)
layer_count=$(wc -l < image/layers.txt)

# best_of CMD…: runs CMD $runs times; sets $wall (s, best), $cpu (user+system s of that run)
# and $rss (KB, max of the runs). CPU time is the steadier figure when the machine is shared.
best_of() {
    wall=""; rss=0; cpu=""
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M %U %S" -o time.out "$@" > out.json 2> err.txt || [ $? = 1 ] || { cat err.txt >&2; exit 2; }
        read -r w m u s < <(tail -1 time.out)
        if [ -z "$wall" ] || awk "BEGIN { exit !($w < $wall) }"; then wall=$w; cpu=$(awk "BEGIN { print $u + $s }"); fi
        if [ "$m" -gt "$rss" ]; then rss=$m; fi
    done
}
mbs() { awk "BEGIN { printf \"%.0f\", $raw_bytes / 1e6 / $1 }"; }

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "image:   $layer_count gzip layers, $((raw_bytes / 1000000)) MB uncompressed, $((packed_bytes / 1000000)) MB compressed (best of $runs runs each)"
echo

best_of "$bench/bin/inflate" $gzip_layers
floor=$wall; floor_cpu=$cpu
printf "%-48s %7.2f s  %5s MB/s  cpu %6.2f s\n" "plain decompression, zlib (libarchive, 1 core)" "$floor" "$(mbs "$floor")" "$cpu"
best_of "$bench/bin/inflate" --isal $gzip_layers
isal=$wall
printf "%-48s %7.2f s  %5s MB/s  cpu %6.2f s\n" "plain decompression, ISA-L (as residue, 1 core)" "$isal" "$(mbs "$isal")" "$cpu"
# ratio A/B: residue's time over plain zlib decompression, and over ISA-L decompression.
ratios() { awk "BEGIN { printf \"ratio %.2f / %.2f\", $1 / $floor, $1 / $isal }"; }

best_of "$residue" scan oci:image --no-cache --parallelism 1 --format json
one=$wall; one_rss=$rss
printf "%-48s %7.2f s  %5s MB/s  cpu %6.2f s  peak RSS %4d MB  %s\n" "residue, 1 core, no cache" "$one" "$(mbs "$one")" "$cpu" $((one_rss / 1024)) "$(ratios "$one")"

best_of "$residue" scan oci:image --no-cache --format json
two=$wall; two_rss=$rss
cp out.json findings.json
printf "%-48s %7.2f s  %5s MB/s  cpu %6.2f s  peak RSS %4d MB  %s\n" "residue, $(nproc) cores, no cache" "$two" "$(mbs "$two")" "$cpu" $((two_rss / 1024)) "$(ratios "$two")"
echo "(ratio: residue's time / plain decompression's, zlib / ISA-L)"

rm -rf cache
/usr/bin/time -f "%e %M" -o time.out "$residue" scan oci:image --cache-dir cache --format json > cold.json || [ $? = 1 ]
read -r cold cold_rss < <(tail -1 time.out)
best_of "$residue" scan oci:image --cache-dir cache --format json
warm=$wall
cmp -s <(python3 -c 'import json,sys; print(json.dumps(json.load(open("cold.json"))["findings"]))') \
       <(python3 -c 'import json,sys; print(json.dumps(json.load(open("out.json"))["findings"]))') && same="same findings" || same="FINDINGS DIFFER"
printf "%-48s %7.2f s  peak RSS %4d MB\n" "residue, cold cache" "$cold" $((cold_rss / 1024))
printf "%-48s %7.2f s  (%.1f%% of cold, %s)\n" "residue, warm cache" "$warm" "$(awk "BEGIN { print 100 * $warm / $cold }")" "$same"

best_of "$bench/bin/inflate" $plain_layers
tar_floor=$wall
best_of "$residue" scan oci:plain --no-cache --parallelism 1 --format json
printf "%-48s %7.2f s  %5s MB/s  (reading the tars alone: %.2f s)\n" "residue on uncompressed layers, 1 core" "$wall" "$(mbs "$wall")" "$tar_floor"
printf "%-48s %s\n" "detector alone, 1 core" "$("$residue" bench-detector $plain_layers | sed 's/^detector: //')"

status=0
python3 - "$bench/image/planted.json" findings.json <<'EOF' || status=1
import json, sys
planted = json.load(open(sys.argv[1]))
findings = json.load(open(sys.argv[2]))["findings"]
seen = {(f["ruleId"], f["location"].get("path")) for f in findings}
found = [p for p in planted if (p["ruleId"], p["path"]) in seen]
print(f"{'findings':48} {len(found)}/{len(planted)} planted secrets found; {len(findings) - len(found)} other findings in the real files")
for p in planted:
    if p not in found:
        print(f"  MISSED {p['ruleId']} {p['path']}")
sys.exit(0 if len(found) == len(planted) else 1)
EOF

if [ -n "${TRIVY:-}" ]; then
    # Trivy reads the same OCI layout; its secret scanner skips documentation, system paths and
    # binaries by design, so this compares time on the same bytes, not the same work.
    rm -rf trivy-cache
    /usr/bin/time -f "%e %M" -o time.out "$TRIVY" image --scanners secret --input image --format json --quiet \
        --cache-dir trivy-cache --output trivy.json || { echo "trivy failed" >&2; exit 2; }
    read -r trivy_wall trivy_rss < <(tail -1 time.out)
    found=$(python3 - "$bench/image/planted.json" trivy.json <<'PY'
import json, sys
planted = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
paths = {"/" + r.get("Target", "").lstrip("/") for r in report.get("Results", []) if r.get("Secrets")}
print(f"{sum(p['path'] in paths for p in planted)}/{len(planted)}")
PY
)
    printf "%-48s %7.2f s  %5s MB/s  peak RSS %4d MB  %s planted secrets reported\n" "trivy $("$TRIVY" --version | head -1 | cut -d' ' -f2) --scanners secret, cold cache" \
        "$trivy_wall" "$(mbs "$trivy_wall")" $((trivy_rss / 1024)) "$found"
fi
exit $status
