#!/usr/bin/env bash
# Runs Coppice's whole test suite after installing what is missing (see scripts/setup.sh).
# Tests build in release mode with the portable AVX2+FMA target: the numeric tests run far faster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift test -c release -Xswiftc -target-cpu -Xswiftc "${COPPICE_TARGET_CPU:-haswell}" "$@"
