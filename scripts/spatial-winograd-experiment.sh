#!/usr/bin/env bash
# Reproduces docs/results/spatial-winograd-fashion-mnist.md (about 40 minutes on 2 cores):
#   dense vgg-fmnist on Fashion-MNIST (4 epochs);
#   spatial-Winograd pruning with the embedded recipe (step 1: 6 spatial stages to 70%, step 2: 2
#   Winograd-domain stages to 76%, one epoch each);
#   baseline (a), Winograd-direct pruning without importance factors or gradient scaling (Li et al.
#   2017), at three learning rates (2e-4, 2e-5, 2e-6);
#   baseline (b), unstructured spatial magnitude pruning;
# then the comparison table (0.5-point accuracy budget) and chart.
# Usage: scripts/spatial-winograd-experiment.sh [output directory, default runs/spatial-winograd-fmnist]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
out="${1:-runs/spatial-winograd-fmnist}"
common=(--model vgg-fmnist --dataset fashion-mnist --epochs 4 --quiet)
[ -z "$smoke" ] || { out=$(mktemp -d); common=(--model vgg-fmnist --dataset fashion-mnist --epochs 1 --train-limit 256 --test-limit 256 --quiet); }
[ -f "$out/dense/model.safetensors" ] || "$coppice" train "${common[@]}" --output "$out/dense"
"$coppice" spatial-winograd "${common[@]}" --from "$out/dense" --output "$out/spatial-winograd"
for lr in 0.0002 0.00002 0.000002; do
    "$coppice" spatial-winograd "${common[@]}" --from "$out/dense" --method winograd-direct --no-importance \
        --gradient-exponent 0 --winograd-targets 0.3,0.5,0.6,0.7,0.76 --winograd-lr "$lr" --output "$out/winograd-direct-lr$lr"
done
"$coppice" spatial-winograd "${common[@]}" --from "$out/dense" --method spatial-unstructured \
    --spatial-targets 0.3,0.5,0.7,0.9 --output "$out/spatial-unstructured"
"$coppice" winograd-compare "$out/spatial-winograd" "$out"/winograd-direct-lr* "$out/spatial-unstructured" \
    --markdown "$out/comparison.md" --svg "$out/accuracy-vs-sparsity.svg"
cat "$out/comparison.md"
