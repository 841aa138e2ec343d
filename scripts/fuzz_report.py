#!/usr/bin/env python3
"""Rewrites docs/results/fuzzing.md from docs/results/fuzzing-runs.csv (one row per target per
scripts/fuzz.sh run): per target the campaign's executions, coverage and crashes, then every run.
Usage: scripts/fuzz_report.py RUNS_CSV OUTPUT_MD"""
import csv
import os
import sys
from collections import OrderedDict

runs_path, output_path = sys.argv[1], sys.argv[2]
with open(runs_path, newline="") as f:
    runs = list(csv.DictReader(f))
totals = OrderedDict()
for run in runs:
    t = totals.setdefault(run["target"], {"runs": 0, "seconds": 0, "executions": 0, "coverage": 0, "features": 0, "crashes": 0})
    t["runs"] += 1
    for key in ("seconds", "executions", "crashes"):
        t[key] += int(run[key])
    for key in ("coverage", "features"):
        t[key] = max(t[key], int(run[key]))
cpus = sorted({run["cpu"] for run in runs})
regressions = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests/CoppiceCLITests/FuzzRegressions")


def stored(target):
    folder = os.path.join(regressions, target)
    return len(os.listdir(folder)) if os.path.isdir(folder) else 0


lines = [
    "# Fuzzing Coppice's readers of outside bytes",
    "",
    "Written by `scripts/fuzz_report.py` from `fuzzing-runs.csv`, which `scripts/fuzz.sh [seconds] [target ...]`",
    "appends to (libFuzzer with AddressSanitizer over `Sources/CoppiceFuzzTargets`, seeded by each target's",
    "valid files). A crashing input is moved to `Tests/CoppiceCLITests/FuzzRegressions/<target>/`, and",
    "`FuzzReplayTests` runs every stored input through its target in the normal suite: a crash found here",
    "counts as fixed once the suite passes with it stored. What each stored input was and how it was fixed:",
    "`Tests/CoppiceCLITests/FuzzRegressions/README.md`.",
    "",
    "CPU: " + "; ".join(cpus) + ".",
    "",
    "| target | runs | seconds | executions | coverage (edges) | features | crashes found | inputs stored for replay |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]
for name, t in totals.items():
    lines.append(f"| {name} | {t['runs']} | {t['seconds']} | {t['executions']:,} | {t['coverage']} | {t['features']} | {t['crashes']} | "
                 f"{stored(name)} |")
lines += ["", "## Every run", "", "| date | commit | target | seconds | executions | coverage | features | crashes |",
          "|---|---|---|---:|---:|---:|---:|---:|"]
for run in runs:
    lines.append(f"| {run['date']} | {run['commit']} | {run['target']} | {run['seconds']} | {int(run['executions']):,} | "
                 f"{run['coverage']} | {run['features']} | {run['crashes']} |")
with open(output_path, "w") as f:
    f.write("\n".join(lines) + "\n")
