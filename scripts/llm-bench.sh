#!/usr/bin/env bash
# Coppice against llama.cpp (built from source by the PyPI package llama-cpp-python, in a venv outside
# the repo) on the same random-weight GGUF files, 2 threads, one run: the Llama-57M shape and the
# Llama-3.2-1B architecture in F32, F16, BF16, Q8_0 and Q4_0, median of 5 alternating rounds (about 17
# minutes). Writes docs/results/llm-bench.md, or the file named third.
# The 1B files take about 9 GB of disk under the model directory (default /tmp/coppice-llm).
# Usage: scripts/llm-bench.sh [model directory] [presets, default "llama-57m llama-3.2-1b"] [results file]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/llamacpp-prepare.sh)
source scripts/lib/coppice.sh
dir="${1:-/tmp/coppice-llm}"
presets="${2:-llama-57m llama-3.2-1b}" types="f32 f16 bf16 q8_0 q4_0" timing=(--rounds 5) results="${3:-docs/results/llm-bench.md}"
if [ -n "$smoke" ]; then
    dir=$(mktemp -d) presets=llama-57m types=q4_0 timing=(--rounds 1 -p 16 -n 8) results="$dir/llm-bench.md"
fi
mkdir -p "$dir"
files=()
for preset in $presets; do
    for type in $types; do
        file="$dir/$preset-$type.gguf"
        [ -f "$file" ] || "$coppice" bench llm-model --preset "$preset" --type "$type" --output "$file"
        files+=("$file")
    done
done
{
    echo "CPU: $("$coppice" doctor --format csv | awk -F, '$2 ~ /^CPU / {sub(/^CPU /, "", $2); print $2}' | head -1)" \
        "($(lscpu | awk -F: '/^CPU family/ {f=$2} /^Model:/ {m=$2} END {gsub(/ /, "", f); gsub(/ /, "", m); print "family " f " model " m}')," \
        "$("$coppice" doctor --format csv | awk -F, '$2 ~ /^ISA / {print $2}' | head -1)); Coppice from a plain" \
        "\`swift build -c release\`${COPPICE_TARGET_CPU:+ with -target-cpu $COPPICE_TARGET_CPU}."
    echo
    "$venv/bin/python" benchmarks/llamacpp_bench.py --threads 2 --coppice "$coppice" "${timing[@]}" "${files[@]}"
} | tee "$results"
