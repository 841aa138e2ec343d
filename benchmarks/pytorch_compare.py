#!/usr/bin/env python3
"""Times `coppice bench engine`'s cases with PyTorch CPU on the same shapes and thread count, and
prints Coppice time / PyTorch time per case, as a table and as JSON.

torch is not a dependency of Coppice: install it into a virtual environment outside the repo, e.g.
    python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch numpy
    /opt/torch-venv/bin/python benchmarks/pytorch_compare.py --threads 2 --rounds 3
The script builds Coppice in release mode (scripts/bench.sh) unless --coppice-json names a file
from `coppice bench engine --format json`.
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

from timing import alternate_rounds, median_seconds


def torch_cases(budget):
    """Seconds per case, keyed by Coppice's case names."""
    g = torch.Generator().manual_seed(0)
    out = {}

    def randn(*shape):
        return torch.randn(*shape, generator=g)

    for m, n, k, ta, tb in [(1024, 1024, 1024, "N", "N"), (128, 512, 512, "N", "N"), (128, 512, 512, "N", "T"),
                            (128, 512, 512, "T", "N"), (2048, 256, 512, "N", "N"), (256, 1536, 512, "N", "N")]:
        a = randn(m, k) if ta == "N" else randn(k, m).t()
        b = randn(k, n) if tb == "N" else randn(n, k).t()
        out[f"matmul {ta}{tb} m={m} n={n} k={k}"] = median_seconds(lambda: torch.matmul(a, b), budget)
    a, x = randn(4096, 4096), randn(4096, 1)
    out["matmul GEMV 4096x4096"] = median_seconds(lambda: torch.matmul(a, x), budget)

    conv = torch.nn.Conv2d(64, 64, 3, padding=1)
    xc = randn(64, 64, 32, 32)
    seed = torch.ones(64, 64, 32, 32)
    best_forward, best_both = float("inf"), float("inf")
    for layout in (torch.contiguous_format, torch.channels_last):
        layer = conv.to(memory_format=layout)
        xin = xc.to(memory_format=layout)
        with torch.no_grad():
            best_forward = min(best_forward, median_seconds(lambda: layer(xin), budget))
        xg = xin.clone().requires_grad_(True)

        def step():
            layer.zero_grad(set_to_none=True)
            xg.grad = None
            layer(xg).backward(seed)

        best_both = min(best_both, median_seconds(step, budget))
    name = "conv2d 3x3 64->64 32x32 N=64"
    out[name + " forward"] = best_forward
    out[name + " forward+backward"] = best_both

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xm = torch.rand(128, 784, generator=g)
    labels = torch.arange(128) % 10

    def mlp_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xm), labels).backward()
        opt.step()

    out["train step 784-512-512-10 batch 128 SGD"] = median_seconds(mlp_step, budget)

    n = 1 << 22
    a, b = randn(n), randn(n)
    with torch.no_grad():
        out["add 4M"] = median_seconds(lambda: a + b, budget)
        out["relu 4M"] = median_seconds(lambda: torch.relu(a), budget)
        out["exp 4M"] = median_seconds(lambda: torch.exp(a), budget)
        out["sum 4M"] = median_seconds(lambda: a.sum(), budget)
        logits = randn(4096, 1000)
        out["softmax 4096x1000"] = median_seconds(lambda: torch.softmax(logits, dim=-1), budget)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all cores)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timing per case (default 1.0)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate Coppice's and PyTorch's timings this many times and report the medians (default 1)")
    parser.add_argument("--coppice-json", help="results of `coppice bench engine --format json` to use instead of running it")
    parser.add_argument("--format", choices=["md", "json"], default="md", help="md prints the table then the JSON")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1; got {args.rounds}")

    torch.set_num_threads(args.threads)
    suites = {}

    def coppice():
        if args.coppice_json:
            with open(args.coppice_json) as f:
                results = json.load(f)
        else:
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            env = dict(os.environ, COPPICE_NUM_THREADS=str(args.threads))
            text = subprocess.run([os.path.join(root, "scripts", "bench.sh"), "--format", "json", "--budget", str(args.budget)],
                                  check=True, capture_output=True, text=True, env=env).stdout
            results = json.loads(text)
        times = {}
        for r in results:
            if r["metric"] == "time":
                suites[r["case"]] = r["suite"]
                times[r["case"]] = r["value"]
        return times

    timed = alternate_rounds(args.rounds, coppice, lambda: {case: s * 1e3 for case, s in torch_cases(args.budget).items()})
    rows = [{"suite": suites[case], "case": case, "metric": "time", "unit": "ms", "value": ours, "pytorch_ms": theirs,
             "ratio": ours / theirs, "round_ratios": ratios} for case, (ours, theirs, ratios) in timed.items()]
    if args.format == "md":
        print(f"Coppice vs PyTorch {torch.__version__} CPU, {args.threads} threads (ratio = Coppice time / PyTorch time"
              + (f"; medians of {args.rounds} alternating rounds, and each round's ratio)\n" if args.rounds > 1 else ")\n"))
        print("| suite | case | Coppice ms | PyTorch ms | ratio |" + (" rounds |" if args.rounds > 1 else ""))
        print("|---|---|---:|---:|---:|" + ("---|" if args.rounds > 1 else ""))
        for row in rows:
            rounds = " " + " ".join(f"{r:.2f}" for r in row["round_ratios"]) + " |" if args.rounds > 1 else ""
            print(f"| {row['suite']} | {row['case']} | {row['value']:.3f} | {row['pytorch_ms']:.3f} | {row['ratio']:.2f} |{rounds}")
        print()
    print(json.dumps(rows, indent=2))

if __name__ == "__main__":
    sys.exit(main())
