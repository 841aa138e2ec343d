#!/usr/bin/env bash
# What runtime dispatch buys, on this machine: `coppice bench engine` from a plain release build (no
# CPU flags: what a package depending on Coppice gets) against one built for TARGET_CPU (default
# native), and the plain build with OpenBLAS forced onto its Prescott fallback core (what Debian's
# 0.3.21 runs on new Intel Xeons) with its products left on it (COPPICE_GEMM=openblas), sent to BLIS
# (COPPICE_GEMM=blis), or left to Coppice's choice (oneDNN where installed).
# Then `coppice bench sparse` (whose CSR, block-sparse and N:M kernels are still partly Swift SIMD)
# from both builds, two alternating runs each, as plain / TARGET_CPU per case (the faster run of each).
# Prints `coppice doctor` and Markdown tables of the times. BUDGET sets seconds per case (0.5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
budget=${BUDGET:-0.5} sparse_budget=0.2
target=${TARGET_CPU:-native}
COPPICE_TARGET_CPU='' source scripts/lib/coppice.sh
if [ -n "$smoke" ]; then
    targeted="$coppice" budget=0.01 sparse_budget=0.01  # the quick mode: one binary stands for both builds
else
    swift build -c release --build-path ".build-$target" -Xswiftc -target-cpu -Xswiftc "$target" --product coppice >&2
    targeted=".build-$target/release/coppice"
fi
out=$(mktemp -d)
"$coppice" doctor
bench() { "$@" bench engine --budget "$budget" --format csv; }
bench "$coppice" >"$out/plain.csv"
bench "$targeted" >"$out/target.csv"
OPENBLAS_CORETYPE=Prescott COPPICE_GEMM=openblas bench "$coppice" >"$out/prescott.csv"
OPENBLAS_CORETYPE=Prescott COPPICE_GEMM=blis bench "$coppice" >"$out/blis.csv"
OPENBLAS_CORETYPE=Prescott bench "$coppice" >"$out/dispatched.csv"
python3 - "$out" "$target" <<'PY'
import csv, sys
def load(name):
    return {(r["case"], r["metric"]): float(r["value"]) for r in csv.DictReader(open(f"{sys.argv[1]}/{name}.csv"))}
plain, target, prescott, blis, dispatched = (load(n) for n in ("plain", "target", "prescott", "blis", "dispatched"))
cpu = sys.argv[2]
print()
print(f"| case | plain build ms | {cpu} build ms | plain / {cpu} | Prescott OpenBLAS ms | BLIS ms | dispatched ms | OpenBLAS / dispatched |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for key, value in plain.items():
    if key[1] != "time":
        continue
    t, p, b, d = target[key], prescott[key], blis[key], dispatched[key]
    print(f"| {key[0]} | {value:.3f} | {t:.3f} | {value / t:.2f} | {p:.3f} | {b:.3f} | {d:.3f} | {p / d:.2f} |")
for name, rows in (("BLIS", blis), ("dispatched", dispatched)):
    print(f"\n{name}: " + next(k[0] for k in rows if k[0].startswith("GEMM")))
for name, rows in (("Prescott OpenBLAS", prescott), ("BLIS", blis), ("dispatched", dispatched)):
    print(f"{name} ceiling: " + "; ".join(f"{k[0]} {v:.1f} GFLOP/s" for k, v in rows.items() if k[0].endswith("threads)")))
PY
for run in 1 2; do
    "$coppice" bench sparse --budget "$sparse_budget" --format csv >"$out/sparse-plain-$run.csv"
    "$targeted" bench sparse --budget "$sparse_budget" --format csv >"$out/sparse-target-$run.csv"
done
python3 - "$out" "$target" <<'PY'
import csv, statistics, sys
def load(name):
    return {(r["case"], r["metric"]): float(r["value"]) for r in csv.DictReader(open(f"{sys.argv[1]}/{name}.csv"))}
plain = [load(f"sparse-plain-{run}") for run in (1, 2)]
target = [load(f"sparse-target-{run}") for run in (1, 2)]
cpu = sys.argv[2]
print(f"\n| sparse case | metric | plain build ms | {cpu} build ms | plain / {cpu} |")
print("|---|---|---:|---:|---:|")
ratios = []
for key in plain[0]:
    if not key[1].endswith("time"):
        continue
    p, t = min(r[key] for r in plain), min(r[key] for r in target)
    print(f"| {key[0]} | {key[1]} | {p:.4g} | {t:.4g} | {p / t:.2f} |")
    if key[1] != "dense time":
        ratios.append(p / t)
print(f"\nsparse kernels: plain / {cpu} {min(ratios):.2f}-{max(ratios):.2f}, median {statistics.median(ratios):.2f}, "
      f"{cpu} faster by more than 5% in {sum(r > 1.05 for r in ratios)} of {len(ratios)}")
PY
rm -rf "$out"
