#!/usr/bin/env bash
# Coppice's main job on its embedded default: installs what is missing, builds in release mode
# (plain; COPPICE_TARGET_CPU adds a -target-cpu), trains the small all-3×3 VGG-style net (vgg-fmnist)
# on Fashion-MNIST, prunes it with spatial-Winograd pruning (Yu, Park & Naumov 2019: six spatial
# structured stages to 70% Winograd-domain sparsity, then two Winograd-domain stages to 76% with the
# importance factor matrix and F^-1.5 gradient scaling), prunes the hidden Linear layer to 90% over
# the spatial stages, prints accuracy and sparsity after every stage and the measured inference
# speedup of the pruned net over the dense one at batch 1 and 32 (both folded for inference, the
# dense one on its fastest algorithms), and writes report.html.
# For a run of a few minutes on 2 cores it trains on the first 15,000 training images (all 10,000
# test images); scripts/spatial-winograd-experiment.sh runs the full data with the baselines.
# Results go to runs/vgg-fmnist-fashion-mnist-spatial-winograd-seed0/. Extra arguments go to
# `coppice spatial-winograd` (for example --train-limit 0 for all training images).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
scale=(--epochs 2 --train-limit 15000)
[ -z "$smoke" ] || scale=(--epochs 1 --train-limit 256 --test-limit 256)
"$coppice" spatial-winograd --dataset fashion-mnist "${scale[@]}" "$@"
