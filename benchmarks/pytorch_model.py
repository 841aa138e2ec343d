#!/usr/bin/env python3
"""The whole pruned `vgg-fmnist` (a `coppice spatial-winograd` run, e.g. from scripts/demo.sh) against
the dense model in PyTorch on the same test images, batch sizes and thread count: PyTorch runs the
run's own dense weights (its dense/ stage, checked by matching its test accuracy) at its best of
NCHW, channels-last and a frozen TorchScript graph (BatchNorm folded, oneDNN); Coppice's times come
from `coppice report` (the folded dense model on its fastest algorithms, and the pruned model on
the paths it chose). Prints the times and the ratio PyTorch ms / Coppice pruned ms (above 1:
Coppice's pruned model is faster), as a table and as JSON.

torch is not a dependency of Coppice: install it into a virtual environment outside the repo, e.g.
    python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch numpy safetensors
    scripts/demo.sh && /opt/torch-venv/bin/python benchmarks/pytorch_model.py --threads 2
"""
import argparse
import json
import os
import subprocess
import sys
import warnings

import torch
import torch.nn as nn
from safetensors.torch import load_file

from coppice_build import build_coppice
from pytorch_lenet import load
from timing import median_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def vgg_fmnist(classes=10, size=28):
    """Coppice's `vgg-fmnist` (CoppiceVision/Models/VisionModels.swift), layer for layer."""
    layers, channels = [], 1
    for width, pool in [(32, False), (32, True), (64, False), (64, True)]:
        layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
        channels = width
    pooled = size // 4
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * pooled * pooled, 256), nn.ReLU(), nn.Linear(256, classes))


def dense_model(run):
    model = vgg_fmnist()
    missing, unexpected = model.load_state_dict(load_file(os.path.join(run, "dense", "model.safetensors")), strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"{run}/dense/model.safetensors is not a vgg-fmnist: missing {missing}, unexpected {unexpected}")
    return model.eval()


def pytorch_variants(model, x):
    """The ways a PyTorch user would run this model for inference, each on a copy and the batch `x`."""
    import torch._inductor.config
    torch._inductor.config.freezing = True
    with torch.no_grad():
        last = vgg_copy(model).eval().to(memory_format=torch.channels_last)
        frozen = torch.jit.freeze(torch.jit.trace(vgg_copy(model).eval(), x))
        compiled = torch.compile(vgg_copy(model).eval(), dynamic=False)
        compiled(x)
    return {
        "eager NCHW": (vgg_copy(model).eval(), x),
        "eager channels-last": (last, x.to(memory_format=torch.channels_last)),
        "TorchScript frozen": (frozen, x),
        "torch.compile frozen": (compiled, x),
    }


def vgg_copy(model):
    copy = vgg_fmnist()
    copy.load_state_dict(model.state_dict())
    return copy


def coppice_times(binary, run, batch, data_dir, threads):
    env = dict(os.environ, COPPICE_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "report", run, "--batch-size", str(batch), "--data-dir", data_dir, "--format", "json"],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    rows = {r["metric"]: r["value"] for r in json.loads(out) if r["case"] == f"whole model batch {batch}"}
    return rows["dense time"], rows["chosen paths time"], rows["sparsity"], rows["FLOP sparsity"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=os.path.join(ROOT, "runs", "vgg-fmnist-fashion-mnist-spatial-winograd-seed0"),
                   help="a `coppice spatial-winograd` run of vgg-fmnist (default: the demo's)")
    p.add_argument("--data-dir", help="directory of the Fashion-MNIST idx files (default: .data/fashion-mnist)")
    p.add_argument("--batches", default="1,32", help="comma-separated batch sizes (default: 1,32)")
    p.add_argument("--threads", type=int, default=2, help="threads for both (default: 2)")
    p.add_argument("--budget", type=float, default=1.0, help="seconds of timing per PyTorch case (default: 1.0)")
    args = p.parse_args()
    run = os.path.abspath(args.run)
    data_dir = os.path.abspath(args.data_dir or os.path.join(ROOT, ".data", "fashion-mnist"))
    torch.set_num_threads(args.threads)
    binary = build_coppice()
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit's deprecation notice

    model = dense_model(run)
    _, _, xte, yte = load(data_dir, "fashion-mnist")
    with open(os.path.join(run, "config.json")) as f:
        limit = json.load(f).get("test_limit", 0)  # the run measured its accuracy on these test images
    if limit:
        xte, yte = xte[:limit], yte[:limit]
    with torch.no_grad():
        accuracy = (model(xte).argmax(1) == yte).float().mean().item()
    with open(os.path.join(run, "results.json")) as f:
        expected = next(r["test_accuracy"] for r in json.load(f) if r["phase"] == "dense")
    if abs(accuracy - expected) > 1e-3:
        sys.exit(f"PyTorch's accuracy with the run's dense weights is {accuracy:.4f}, Coppice measured {expected:.4f}")

    results = []
    for batch in map(int, args.batches.split(",")):
        x = xte[:batch].contiguous()
        times = {}
        for name, (fn, xin) in pytorch_variants(model, x).items():
            with torch.no_grad():
                times[name] = median_seconds(lambda: fn(xin), args.budget) * 1e3
        best = min(times, key=times.get)
        dense, pruned, sparsity, flop_sparsity = coppice_times(binary, run, batch, data_dir, args.threads)
        results.append({"batch": batch, "pytorch_ms": times, "pytorch_best": best, "coppice_dense_ms": dense,
                        "coppice_pruned_ms": pruned, "parameter_sparsity": sparsity, "flop_sparsity": flop_sparsity,
                        "pruned_vs_pytorch": times[best] / pruned, "pruned_vs_coppice_dense": dense / pruned})

    print(f"vgg-fmnist whole model, {args.threads} threads, PyTorch {torch.__version__}, dense test accuracy "
          f"{100 * accuracy:.2f}% in both; ms (speedup of Coppice's pruned model)\n")
    print("| batch | PyTorch dense (best of four) | Coppice dense | Coppice pruned | pruned vs PyTorch | pruned vs Coppice dense |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['batch']} | {r['pytorch_ms'][r['pytorch_best']]:.3f} ({r['pytorch_best']}) | {r['coppice_dense_ms']:.3f} | "
              f"{r['coppice_pruned_ms']:.3f} | {r['pruned_vs_pytorch']:.2f}x | {r['pruned_vs_coppice_dense']:.2f}x |")
    print(f"\nparameter sparsity {results[0]['parameter_sparsity']:.1f}%, FLOP sparsity {results[0]['flop_sparsity']:.1f}%\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
