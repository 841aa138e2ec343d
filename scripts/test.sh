#!/usr/bin/env bash
# Runs Coppice's whole test suite after installing what is missing (OpenBLAS, zlib, the datasets;
# see scripts/setup.sh and scripts/fetch-data.sh). Idempotent; no network once the cache is filled.
# Tests build in release mode with the portable AVX2+FMA target: the numeric tests run far faster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
python3 scripts/check-architecture.py
# The scripts parse before anything is built; they run in their quick mode after the tests.
for script in scripts/*.sh; do bash -n "$script"; done
python3 -c "import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]" benchmarks/*.py scripts/*.py
# The code stays as swift-format (configured in .swift-format) writes it; apply with
#   swift format format -i -r Sources Tests Package.swift
swift format lint --strict -r Sources Tests Package.swift
swift test -c release -Xswiftc -target-cpu -Xswiftc "${COPPICE_TARGET_CPU:-haswell}" "$@"
# Every script and benchmark on a tiny workload with the binary the tests ran (peers such as PyTorch
# skipped when absent); not when arguments picked a part of the suite.
[ $# -gt 0 ] || python3 scripts/check-scripts.py --binary .build/release/coppice
