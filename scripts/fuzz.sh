#!/usr/bin/env bash
# Fuzzes every reader of outside bytes (Sources/CoppiceFuzzTargets) with libFuzzer and
# AddressSanitizer, each target for a set time from its seeds and the corpus earlier runs grew.
# Crashing inputs are moved to Tests/CoppiceCLITests/FuzzRegressions/<target>/, which the normal test
# suite replays; each run's counts are appended to docs/results/fuzzing-runs.csv and
# docs/results/fuzzing.md is rewritten from it.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
seconds="${1:-60}"
shift || true
# lld: gold fails on this link (an internal error in its DWARF reader).
swift build -c release --package-path Fuzz --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >&2
fuzz=.build-fuzz/release/coppice-fuzz
if [ $# -gt 0 ]; then targets=("$@"); else read -ra targets <<< "$("$fuzz" 2>&1 | sed -n 's/.*targets: //p' | tr -d ',')"; fi
work="${COPPICE_FUZZ_DIR:-.fuzz}" csv=docs/results/fuzzing-runs.csv report=docs/results/fuzzing.md regressions=Tests/CoppiceCLITests/FuzzRegressions
if [ -n "${COPPICE_SMOKE:-}" ]; then  # the quick mode of scripts/check-scripts.py: nothing lands in the repository
    work=$(mktemp -d) csv="$work/runs.csv" report="$work/fuzzing.md" regressions="$work/regressions"
fi
[ -f "$csv" ] || echo "date,commit,cpu,target,seconds,executions,coverage,features,crashes" > "$csv"
field() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -1; }
cpu="$(field 'model name') (family $(field 'cpu family') model $(field 'model'))"
commit="$(git rev-parse --short HEAD)"
# Inputs reach path-based readers through a file per target: in memory where /dev/shm exists (6x the
# executions per second of a disk-backed /tmp here). Leaks are not this campaign's subject (Foundation
# keeps a few buffers at exit); traps, over-reads and hangs are.
[ -d /dev/shm ] && export TMPDIR=/dev/shm
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
status=0
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target" crashes="$work/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    "$fuzz" "$target" --write-seeds "$corpus"
    log="$work/$target.log"
    "$fuzz" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" > "$log" 2>&1 || true
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    read -r coverage features <<< "$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/')"
    found=0
    for file in "$crashes"/*; do
        [ -f "$file" ] || continue
        mkdir -p "$regressions/$target"
        mv "$file" "$regressions/$target/"
        found=$((found + 1))
    done
    [ "$found" -eq 0 ] || { status=1; echo "$target: $found crashing input(s), see $log" >&2; }
    echo "$(date -u +%F),$commit,\"$cpu\",$target,$seconds,${executions:-0},${coverage:-0},${features:-0},$found" >> "$csv"
    echo "$target: ${executions:-0} executions, cov ${coverage:-0}, ft ${features:-0}, $found crash(es)" >&2
done
python3 scripts/fuzz_report.py "$csv" "$report"
exit "$status"
