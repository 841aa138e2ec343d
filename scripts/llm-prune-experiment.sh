#!/usr/bin/env bash
# One-shot pruning of SmolLM2-135M-Instruct (the Q4_1 GGUF scripts/fetch-data.sh fetches) with
# `coppice prune-llm`: magnitude, Wanda and SparseGPT at 50% unstructured and 2:4, calibrated on 16
# sequences of 256 tokens of Emma, perplexity on the first 4,096 tokens of Persuasion (windows of 256)
# before and after; each pruned file stored as F16 GGUF and timed (prefill 128 tokens, decode 32) with
# its matrices dense and from their nonzeros. Then the structured options (a quarter of the FFN
# channels, four blocks), compacted into smaller models. Writes docs/results/llm-pruning.md (about
# 10 minutes on 2 cores).
# Usage: scripts/llm-prune-experiment.sh [work directory, default a fresh temporary one]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
work="${1:-$(mktemp -d)}" results=docs/results/llm-pruning.md
model=.data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
scale=(--calibration-sequences 16 --sequence-length 256 --eval-tokens 4096) methods="magnitude wanda sparsegpt" structures="ffn-channels:0.25 blocks:4"
if [ -n "$smoke" ]; then
    # The quick mode: two methods, a short calibration and evaluation, results kept out of the repo.
    scale=(--calibration-sequences 2 --sequence-length 64 --eval-tokens 256 --speed-tokens 8) methods="magnitude wanda"
    structures="blocks:2" results="$work/llm-pruning.md"
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
    echo "| method | sparsity | dense perplexity | pruned perplexity | pruning time | decode tokens/s, dense → sparse | decode speed-up | prefill speed-up |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    row() {  # method label, sparsity label, then prune-llm's options
        local label="$1" pattern="$2" dir="$work/smollm2-${1}-${2//:/-}"
        shift 2
        "$coppice" prune-llm --model "$model" "$@" "${scale[@]}" --output "$dir" >/dev/null 2>&1
        python3 - "$dir/report.json" "$label" "$pattern" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p, d, s = r["perplexity"], r["dense"], r["sparse"]
head = f"| {sys.argv[2]} | {sys.argv[3]} | {p['dense']:.3f} | {p['pruned']:.3f} | {r['pruningSeconds']:.1f} s "
if sys.argv[2] == "structured":  # compacted and dense: one speed, no sparse run to compare
    print(head + f"| {d['decodeTokensPerSecond']:.1f} | — | — |")
else:
    print(head + f"| {d['decodeTokensPerSecond']:.1f} → {s['decodeTokensPerSecond']:.1f} "
          f"| {s['decodeTokensPerSecond'] / d['decodeTokensPerSecond']:.2f} | {s['prefillTokensPerSecond'] / d['prefillTokensPerSecond']:.2f} |")
PY
    }
    for sparsity in 0.5 2:4; do
        for method in $methods; do row "$method" "$sparsity" --method "$method" --sparsity "$sparsity"; done
    done
    for structured in $structures; do row structured "$structured" --structured "$structured"; done
    echo
    echo "Decode and prefill speed-ups: each pruned file with its matrices from their nonzeros (\`--sparse auto\`) over"
    echo "the same file run dense (\`--sparse off\`), one run each (\`prune-llm --speed-tokens 128\`: 128 prompt tokens, 32"
    echo "generated); one-run timings of this small model move by 10-25% on these VMs (prefill runs the same F32 GEMM"
    echo "either way, so its ratio shows that noise). The tied embedding / output head (49,152 × 576) is not pruned"
    echo "and stays dense. Structured rows are compacted models (fewer FFN channels or blocks), dense either way:"
    echo "their decode speed is the smaller model's, with no sparse run."
    echo
    echo "The same methods in a PyTorch reference written from the papers, on the same file, calibration and held-out"
    echo "tokens: [llm-pruning-reference.md](llm-pruning-reference.md) (\`benchmarks/pytorch_llm_prune.py\`)."
} | tee "$results"
