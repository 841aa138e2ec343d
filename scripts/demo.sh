#!/usr/bin/env bash
# Coppice's main job on its embedded default: installs what is missing, builds in release mode for
# this CPU, trains the LeNet-style 3×3 CNN on Fashion-MNIST for 3 epochs while pruning it to 90%
# sparsity (magnitude, gradual schedule), then measures every layer dense vs sparse and prints the
# accuracy, the per-layer sparsity and the measured speedup.
# Results (recipe, weights dense and sparse, logs, curves, sparsity report and chart) go to
# runs/lenet5-fashion-mnist-magnitude-90-seed0/. Extra arguments go to `coppice prune`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
swift build -c release -Xswiftc -target-cpu -Xswiftc "${COPPICE_TARGET_CPU:-native}" --product coppice >&2
.build/release/coppice prune --model lenet5 --dataset fashion-mnist --epochs 3 --sparsity 0.9 "$@"
