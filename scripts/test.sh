#!/usr/bin/env bash
# Runs Coppice's whole test suite after installing what is missing (OpenBLAS, zlib, the datasets;
# see scripts/setup.sh and scripts/fetch-data.sh). Idempotent; no network once the cache is filled.
# Tests build in release mode with the portable AVX2+FMA target: the numeric tests run far faster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
python3 scripts/check-architecture.py
swift test -c release -Xswiftc -target-cpu -Xswiftc "${COPPICE_TARGET_CPU:-haswell}" "$@"
