#!/usr/bin/env bash
# Builds Coppice in release mode for this machine's CPU and runs the engine benchmark.
# Extra arguments go to `coppice bench engine` (e.g. --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib/coppice.sh
"$coppice" bench engine "$@"
