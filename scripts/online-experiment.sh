#!/usr/bin/env bash
# Reproduces docs/results/online/ (about 50 minutes on 2 cores): online training with dense-to-sparse
# serving models (coppice online) at 50%, 70% and 90% MLP sparsity
#   - on MovieLens-100K in weekly chunks (4 weeks of pre-training), every schedule (r = 1, 2, 4, ∞ and
#     adaptive) with learned per-layer, uniform and global magnitude masks;
#   - on the synthetic Criteo-schema stream with abrupt and with gradual drift of the planted truth and
#     of category popularity (16 chunks of 20,000 examples, 4 of pre-training), schedules r = 1, 2, 4, ∞
#     and adaptive with learned, uniform and global masks.
# Each run's summary.md, ne.svg and metrics.csv are copied to docs/results/online/<dataset>-<sparsity>/.
# Usage: scripts/online-experiment.sh [run directory, default runs/online-experiment]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
out="${1:-runs/online-experiment}" results=docs/results/online sparsities="0.5 0.7 0.9" movielens=() synthetic=(--chunk-size 20000 --chunks 16)
if [ -n "$smoke" ]; then
    out=$(mktemp -d) results="$out/results" sparsities=0.9 movielens=(--chunks 5) synthetic=(--chunk-size 500 --chunks 5)
fi
publish() {
    mkdir -p "$results/$1"
    cp "$out/$1/summary.md" "$out/$1/ne.svg" "$out/$1/metrics.csv" "$results/$1/"
}
for s in $sparsities; do
    name="movielens-$s"
    "$coppice" online --dataset movielens-100k --chunk-days 7 "${movielens[@]}" --pretrain-chunks 4 --chunk-epochs 3 --learning-rate 0.5 \
        --sparsity "$s" --schedules r1,r2,r4,once,adaptive:0.005 --pruning learned,uniform,global --output "$out/$name" >/dev/null
    publish "$name"
done
for drift in abrupt:100000 gradual:200000; do
    for s in $sparsities; do
        name="synthetic-${drift%%:*}-$s"
        "$coppice" online --dataset synthetic --drift "$drift" "${synthetic[@]}" --pretrain-chunks 4 \
            --learning-rate 0.2 --arch-mlp-bot 13-256-128-16 --arch-mlp-top 256-128-1 --sparsity "$s" \
            --schedules r1,r2,r4,once,adaptive:0.005 --pruning learned,uniform,global --output "$out/$name" >/dev/null
        publish "$name"
    done
done
