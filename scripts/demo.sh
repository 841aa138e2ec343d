#!/usr/bin/env bash
# Coppice's main job on its embedded default: installs what is missing, builds in release mode for
# this CPU, trains the LeNet-style 3×3 CNN on Fashion-MNIST for 3 epochs and prints its accuracy.
# Results (checkpoint, logs, curves.svg, report.html) go to runs/lenet5-fashion-mnist-seed0/.
# Extra arguments go to `coppice train` (e.g. --dataset mnist --epochs 5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
swift build -c release -Xswiftc -target-cpu -Xswiftc "${COPPICE_TARGET_CPU:-native}" --product coppice >&2
.build/release/coppice train --model lenet5 --dataset fashion-mnist --epochs 3 "$@"
