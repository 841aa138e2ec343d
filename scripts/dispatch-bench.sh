#!/usr/bin/env bash
# What runtime dispatch buys, on this machine: `coppice bench engine` from a plain release build (no
# CPU flags: what a package depending on Coppice gets) against one built for Haswell, and OpenBLAS
# forced onto its Prescott fallback core (what Debian's 0.3.21 runs on new Intel Xeons) with its
# products left on it (COPPICE_GEMM=openblas) or switched to BLIS (the default there).
# Prints `coppice doctor` and a Markdown table of the times. BUDGET sets seconds per case (0.5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
budget=${BUDGET:-0.5}
swift build -c release --product coppice >&2
swift build -c release --build-path .build-haswell -Xswiftc -target-cpu -Xswiftc haswell --product coppice >&2
out=$(mktemp -d)
.build/release/coppice doctor
.build/release/coppice bench engine --budget "$budget" --format csv >"$out/plain.csv"
.build-haswell/release/coppice bench engine --budget "$budget" --format csv >"$out/haswell.csv"
OPENBLAS_CORETYPE=Prescott COPPICE_GEMM=openblas .build/release/coppice bench engine --budget "$budget" --format csv >"$out/prescott.csv"
OPENBLAS_CORETYPE=Prescott .build/release/coppice bench engine --budget "$budget" --format csv >"$out/prescott-dispatch.csv"
python3 - "$out" <<'PY'
import csv, sys
def load(name):
    return {(r["case"], r["metric"]): float(r["value"]) for r in csv.DictReader(open(f"{sys.argv[1]}/{name}.csv"))}
plain, haswell, prescott, dispatched = (load(n) for n in ("plain", "haswell", "prescott", "prescott-dispatch"))
print()
print("| case | plain build ms | Haswell build ms | plain / Haswell | Prescott OpenBLAS ms | Prescott, dispatched ms | OpenBLAS / dispatched |")
print("|---|---:|---:|---:|---:|---:|---:|")
for key, value in plain.items():
    if key[1] != "time":
        continue
    h, p, d = haswell[key], prescott[key], dispatched[key]
    print(f"| {key[0]} | {value:.3f} | {h:.3f} | {value / h:.2f} | {p:.3f} | {d:.3f} | {p / d:.2f} |")
backend = next(k[0] for k in dispatched if k[0].startswith("GEMM"))
print(f"\nPrescott, dispatched: {backend}")
PY
rm -rf "$out"
