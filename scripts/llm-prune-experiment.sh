#!/usr/bin/env bash
# One-shot pruning of SmolLM2-135M-Instruct (the Q4_1 GGUF scripts/fetch-data.sh fetches) with
# `coppice prune-llm`: magnitude, Wanda and SparseGPT at 50% unstructured and 2:4, calibrated on 16
# sequences of 256 tokens of Emma, perplexity on the first 4,096 tokens of Persuasion (windows of 256)
# before and after; each pruned file stored as F16 GGUF. Writes docs/results/llm-pruning.md (about
# 8 minutes on 2 cores).
# Usage: scripts/llm-prune-experiment.sh [work directory, default a fresh temporary one]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
work="${1:-$(mktemp -d)}" results=docs/results/llm-pruning.md
model=.data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
scale=(--calibration-sequences 16 --eval-tokens 4096) methods="magnitude wanda sparsegpt"
if [ -n "$smoke" ]; then
    # The quick mode: two methods, a short calibration and evaluation, results kept out of the repo.
    scale=(--calibration-sequences 2 --sequence-length 64 --eval-tokens 256) methods="magnitude wanda" results="$work/llm-pruning.md"
fi
mkdir -p "$work"
{
    echo "# One-shot pruning of SmolLM2-135M-Instruct"
    echo
    echo "Written by \`scripts/llm-prune-experiment.sh\`: \`coppice prune-llm --model $model --method <method> --sparsity <sparsity> ${scale[*]}\`"
    field() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -1; }
    echo "on $(field 'model name') (family $(field 'cpu family') model $(field 'model')), 2 threads. Perplexity on Persuasion (held out;"
    echo "calibration on Emma)."
    echo
    echo "| method | sparsity | dense perplexity | pruned perplexity | pruning time |"
    echo "|---|---|---:|---:|---:|"
    for sparsity in 0.5 2:4; do
        for method in $methods; do
            out=$("$coppice" prune-llm --model "$model" --method "$method" --sparsity "$sparsity" "${scale[@]}" \
                --output "$work/smollm2-$method-${sparsity/:/-}.gguf" 2>/dev/null)
            read -r dense pruned <<< "$(echo "$out" | sed -n 's/.*: \([0-9.]*\) dense, \([0-9.]*\) pruned/\1 \2/p')"
            seconds=$(echo "$out" | sed -n 's/.*pruned in \([0-9.]*\) s/\1/p')
            echo "| $method | $sparsity | $dense | $pruned | $seconds s |"
        done
    done
} | tee "$results"
