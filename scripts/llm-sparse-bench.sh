#!/usr/bin/env bash
# Pruned-Llama decode speed (issue 19's targets): random-weight Llama-3.2-1B-shaped GGUF files, dense
# and pruned by magnitude (50% unstructured and 2:4, every block matrix; "-out" files prune the output
# head, tied to the embedding, too), F16 and Q8_0; Coppice on the pruned files (`--sparse auto`:
# masks and packed values) against Coppice and llama.cpp on the dense file of the same type, 2
# threads, median of 3 alternating rounds (about 25 minutes, 11 minutes of them writing the files).
# Writes docs/results/llm-sparse-decode.md. The files take about 20 GB under the model directory.
# Usage: scripts/llm-sparse-bench.sh [model directory, default /tmp/coppice-llm]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/llamacpp-prepare.sh)
source scripts/lib/coppice.sh
dir="${1:-/tmp/coppice-llm}" preset=llama-3.2-1b timing=(--rounds 3) results=docs/results/llm-sparse-decode.md
if [ -n "$smoke" ]; then
    dir=$(mktemp -d) preset=llama-57m timing=(--rounds 1 -p 16 -n 8) results="$dir/llm-sparse-decode.md"
fi
mkdir -p "$dir"
# file name suffix -> bench llm-model pruning options
declare -A pruning=([s50]="--sparsity 0.5" [s50-out]="--sparsity 0.5 --prune-output" [2-4]="--sparsity 2:4"
    [2-4-out]="--sparsity 2:4 --prune-output")
groups=()
for type in f16 q8_0; do
    dense="$dir/$preset-$type.gguf"
    [ -f "$dense" ] || "$coppice" bench llm-model --preset "$preset" --type "$type" --output "$dense"
    suffixes=(s50 s50-out 2-4 2-4-out)
    [ "$type" = q8_0 ] && suffixes=(s50 s50-out)
    [ -n "$smoke" ] && suffixes=(2-4-out)
    pruned=()
    for suffix in "${suffixes[@]}"; do
        file="$dir/$preset-$type-$suffix.gguf"
        # shellcheck disable=SC2086
        [ -f "$file" ] || "$coppice" bench llm-model --preset "$preset" --type "$type" ${pruning[$suffix]} --output "$file"
        pruned+=("$file")
    done
    groups+=("$dense=$(IFS=,; echo "${pruned[*]}")")
done
{
    echo "CPU: $("$coppice" doctor --format csv | awk -F, '$2 ~ /^CPU / {sub(/^CPU /, "", $2); print $2}' | head -1)" \
        "($(lscpu | awk -F: '/^CPU family/ {f=$2} /^Model:/ {m=$2} END {gsub(/ /, "", f); gsub(/ /, "", m); print "family " f " model " m}')," \
        "$("$coppice" doctor --format csv | awk -F, '$2 ~ /^ISA / {print $2}' | head -1)); Coppice from a plain \`swift build -c release\`."
    echo
    "$venv/bin/python" benchmarks/llamacpp_sparse.py --threads 2 --coppice "$coppice" "${timing[@]}" "${groups[@]}"
    echo
    echo "Files: random N(0, 0.02) weights at the Llama-3.2-1B shape (\`coppice bench llm-model\`), pruned by magnitude:"
    echo "\`s50\` 50% of every block matrix, \`2-4\` two of every four inputs, \`-out\` the output head (tied to the"
    echo "embedding, 128,256 × 2,048: a fifth of the weights) pruned too; without it the head stays dense and caps"
    echo "the byte ceiling. Pruned files are stored dense (zeros included) and run from their nonzeros when"
    echo "loaded: a bitmask per row and the kept values packed in the file's type (\`MaskedWeights\`); llama.cpp"
    echo "runs the pruned files at the dense file's speed, so its column compares with its dense run."
} | tee "$results"
