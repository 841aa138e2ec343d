#!/usr/bin/env python3
"""Accuracy vs sparsity of GMP-pruned models, with the inference speedup `coppice report` measures.

For each model and sparsity, runs `coppice prune` (magnitude, unstructured, Zhu & Gupta's gradual
schedule over the first two thirds of training, from a fresh initialization) and `coppice report` at
batch 1 and 64, then prints one markdown table and the JSON rows. A dense `coppice train` run with
the same options is the 0% row. Uses only the Python standard library.

    python3 benchmarks/gmp_sweep.py --dataset fashion-mnist --models mlp lenet5 --epochs 3
"""
import argparse
import json
import os
import subprocess
import sys

from coppice_build import build_coppice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, args):
    return subprocess.run([binary] + args, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def metric(rows, case_suffix, name):
    return next(r["value"] for r in rows if r["case"].endswith(case_suffix) and r["metric"] == name)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="fashion-mnist", help="default: fashion-mnist")
    p.add_argument("--models", nargs="+", default=["mlp", "lenet5"], help="default: mlp lenet5")
    p.add_argument("--sparsities", nargs="+", type=float, default=[0.5, 0.7, 0.8, 0.9, 0.95], help="default: 0.5 0.7 0.8 0.9 0.95")
    p.add_argument("--epochs", type=int, default=3, help="default: 3")
    p.add_argument("--seed", type=int, default=0, help="default: 0")
    p.add_argument("--train-limit", type=int, default=0, help="train on the first N images only (default: 0, all)")
    args = p.parse_args()
    subprocess.run([os.path.join(ROOT, "scripts", "setup.sh")], check=True)
    subprocess.run([os.path.join(ROOT, "scripts", "fetch-data.sh")], check=True)
    binary = build_coppice(stdout=subprocess.DEVNULL)
    results = []
    for model in args.models:
        common = ["--model", model, "--dataset", args.dataset, "--epochs", str(args.epochs), "--seed", str(args.seed), "--train-limit", str(args.train_limit),
                  "--quiet", "--format", "json"]
        for sparsity in [0.0] + args.sparsities:
            out = os.path.join("runs", f"sweep-{model}-{args.dataset}-{int(sparsity * 100)}")
            if sparsity == 0:
                rows = json.loads(run(binary, ["train"] + common + ["--output", out]))
            else:
                rows = json.loads(run(binary, ["prune"] + common + ["--output", out, "--sparsity", str(sparsity), "--schedule", "gmp"]))
            accuracy = metric(rows, "", "test accuracy")
            speedups = {}
            for batch in (1, 64):
                report = json.loads(run(binary, ["report", out, "--batch-size", str(batch), "--format", "json"]))
                speedups[batch] = (metric(report, f"batch {batch}", "dense time"), metric(report, f"batch {batch}", "chosen paths time"),
                                   metric(report, f"batch {batch}", "speedup"))
            results.append({"model": model, "dataset": args.dataset, "sparsity": sparsity, "test_accuracy": accuracy,
                            "batch1_dense_ms": speedups[1][0], "batch1_ms": speedups[1][1], "batch1_speedup": speedups[1][2],
                            "batch64_dense_ms": speedups[64][0], "batch64_ms": speedups[64][1], "batch64_speedup": speedups[64][2]})
            print(f"{model} {sparsity:.2f}: {accuracy:.2f}%", file=sys.stderr)
    print(f"GMP (magnitude, unstructured) on {args.dataset}, {args.epochs} epochs, seed {args.seed}\n")
    print("| model | sparsity | test accuracy | batch 1: dense → pruned ms (speedup) | batch 64: dense → pruned ms (speedup) |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['model']} | {100 * r['sparsity']:.0f}% | {r['test_accuracy']:.2f}% | "
              f"{r['batch1_dense_ms']:.3f} → {r['batch1_ms']:.3f} ({r['batch1_speedup']:.2f}×) | "
              f"{r['batch64_dense_ms']:.2f} → {r['batch64_ms']:.2f} ({r['batch64_speedup']:.2f}×) |")
    print()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
