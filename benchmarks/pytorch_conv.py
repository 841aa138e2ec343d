#!/usr/bin/env python3
"""Runs `coppice bench conv` and times PyTorch's conv2d (CPU, inference, no_grad) on the same 3×3
layer shapes, batch sizes and thread count in the same run; prints every Coppice algorithm's time,
PyTorch's time, and the ratio PyTorch time / Coppice time (above 1: Coppice is faster).

torch is not a dependency of Coppice: install it into a virtual environment outside the repo, e.g.
    python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch numpy
    /opt/torch-venv/bin/python benchmarks/pytorch_conv.py --threads 2 --sparsities 0.7,0.76,0.9 --rounds 3

With --rounds N the two sides alternate N times (a shared VM's slow spells then fall on both) and every
cell is the median; a last column gives dense F(4×4,3×3)'s ratio in each round.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

import torch
import torch.nn.functional as F

from coppice_build import build_coppice
from timing import median_seconds


def pytorch_ms(case, budget):
    """PyTorch's best of NCHW and channels-last conv2d for a case name of `coppice bench conv`."""
    match = re.match(r"\S+ (\d+)->(\d+) (\d+)x\d+ batch (\d+)", case)
    c, k, size, n = map(int, match.groups())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, size, size, generator=g)
    w = torch.randn(k, c, 3, 3, generator=g)
    best = float("inf")
    with torch.no_grad():
        for layout in (torch.contiguous_format, torch.channels_last):
            xl, wl = x.to(memory_format=layout), w.to(memory_format=layout)
            best = min(best, median_seconds(lambda: F.conv2d(xl, wl, padding=1), budget))
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all cores)")
    parser.add_argument("--budget", type=float, default=0.3, help="seconds of timing per case (default 0.3)")
    parser.add_argument("--sparsities", default="0.7,0.8,0.9", help="sparse Winograd cases (passed to coppice)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate Coppice's and PyTorch's timings this many times and report the medians (default 1)")
    parser.add_argument("--coppice-json", help="results of `coppice bench conv --format json` to use instead of running it")
    args = parser.parse_args()

    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1; got {args.rounds}")
    torch.set_num_threads(args.threads)
    binary = None if args.coppice_json else build_coppice()

    def coppice():
        """case -> algorithm -> ms, from one `coppice bench conv` run (or the given file)."""
        if args.coppice_json:
            with open(args.coppice_json) as f:
                results = json.load(f)
        else:
            env = dict(os.environ, COPPICE_NUM_THREADS=str(args.threads))
            results = json.loads(subprocess.run([binary, "bench", "conv", "--format", "json",
                                                 "--budget", str(args.budget), "--sparsities", args.sparsities],
                                                check=True, capture_output=True, text=True, env=env).stdout)
        cases = {}
        for r in results:
            if r["metric"].endswith(" time"):
                cases.setdefault(r["case"], {})[r["metric"][:-5]] = r["value"]
        return cases

    rounds = []
    for _ in range(args.rounds):
        ours = coppice()
        rounds.append((ours, {case: pytorch_ms(case, args.budget) for case in ours}))
    cases = list(rounds[0][0])
    algorithms = list(rounds[0][0][cases[0]])
    dense = "winograd F4x3"
    many = args.rounds > 1 and dense in algorithms
    rows = []
    print(f"3×3 conv forward, {args.threads} threads, PyTorch {torch.__version__}: ms (PyTorch ms / Coppice ms)"
          + (f"; medians of {args.rounds} alternating rounds\n" if args.rounds > 1 else "\n"))
    print("| case | PyTorch | " + " | ".join(algorithms) + " |" + (f" {dense} rounds |" if many else ""))
    print("|---|---:|" + "---:|" * len(algorithms) + ("---|" if many else ""))
    for case in cases:
        theirs = statistics.median(r[1][case] for r in rounds)
        times = {a: statistics.median(r[0][case][a] for r in rounds) for a in algorithms}
        cells = [f"{times[a]:.3f} ({theirs / times[a]:.2f})" for a in algorithms]
        each = " " + " ".join(f"{r[1][case] / r[0][case][dense]:.2f}" for r in rounds) + " |" if many else ""
        print(f"| {case} | {theirs:.3f} | " + " | ".join(cells) + " |" + each)
        rows.append({"case": case, "pytorch_ms": theirs, "coppice_ms": times})
    print()
    print(json.dumps(rows, indent=2))

if __name__ == "__main__":
    sys.exit(main())
