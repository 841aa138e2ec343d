#!/usr/bin/env python3
"""The PyTorch twin of `coppice train --model lenet5`: the same LeNet-style 3x3 model, data pipeline
(idx files, normalization, seeded shuffling, batch size), optimizer (SGD, momentum, weight decay,
per-step cosine schedule) and thread count. It trains both and prints test accuracy and mean epoch
time side by side, with the ratio Coppice / PyTorch, as a table and as JSON.

torch is not a dependency of Coppice: install it into a virtual environment outside the repo
(see README), then:
    /opt/torch-venv/bin/python benchmarks/pytorch_lenet.py --dataset fashion-mnist --epochs 3 --threads 2
"""
import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import time

from coppice_build import build_coppice

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NORMALIZATION = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(directory, dataset):
    mean, std = NORMALIZATION[dataset]

    def images(name):
        x = read_idx(os.path.join(directory, name)).astype(np.float32) / 255.0
        return torch.from_numpy((x - mean) / std).unsqueeze(1)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).astype(np.int64))

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def lenet5(classes=10, size=28):
    pooled = size // 4
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * pooled * pooled, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))


def train_pytorch(args):
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte = load(args.data_dir, args.dataset)
    model = lenet5()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(ytr) / args.batch_size)
    total = args.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (1 + math.cos(math.pi * min(s, total) / total)) / 2)
    generator = torch.Generator().manual_seed(args.seed)
    seconds = []
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(ytr), generator=generator)
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
            schedule.step()
        seconds.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        correct = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(yte), 1000))
    return correct / len(yte), sum(seconds) / len(seconds)


def train_coppice(args, root):
    subprocess.run([os.path.join(root, "scripts", "setup.sh")], check=True)
    binary = build_coppice(stdout=subprocess.DEVNULL)
    out = os.path.join(root, "runs", f"twin-lenet5-{args.dataset}")
    env = dict(os.environ, COPPICE_NUM_THREADS=str(args.threads))
    subprocess.run([binary, "train", "--model", "lenet5", "--dataset", args.dataset,
                    "--data-dir", args.data_dir, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                    "--lr", str(args.lr), "--momentum", str(args.momentum), "--weight-decay", str(args.weight_decay),
                    "--lr-schedule", "cosine", "--seed", str(args.seed), "--output", out, "--quiet", "--format", "json"],
                   cwd=root, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    history = summary["history"]
    return history[-1]["test_accuracy"], sum(r["seconds"] for r in history) / len(history), os.path.join(out, "model.safetensors")


def accuracy_in_pytorch(args, weights):
    """Coppice's trained weights loaded into the PyTorch model (same names as nn.Sequential's) and
    evaluated there: the accuracy must match what Coppice reported."""
    from safetensors.torch import load_file
    _, _, xte, yte = load(args.data_dir, args.dataset)
    model = lenet5()
    model.load_state_dict(load_file(weights))
    model.eval()
    with torch.no_grad():
        correct = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(yte), 1000))
    return correct / len(yte)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(NORMALIZATION), default="fashion-mnist", help="default: fashion-mnist")
    p.add_argument("--data-dir", help="directory of the idx files (default: .data/<dataset>)")
    p.add_argument("--epochs", type=int, default=3, help="default: 3")
    p.add_argument("--batch-size", type=int, default=64, help="default: 64")
    p.add_argument("--lr", type=float, default=0.05, help="default: 0.05")
    p.add_argument("--momentum", type=float, default=0.9, help="default: 0.9")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="default: 5e-4")
    p.add_argument("--seed", type=int, default=0, help="default: 0")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all cores)")
    p.add_argument("--skip-coppice", action="store_true", help="train only the PyTorch twin")
    args = p.parse_args()
    args.data_dir = os.path.abspath(args.data_dir or os.path.join(root, ".data", args.dataset))
    torch.set_num_threads(args.threads)

    rows = []
    torch_accuracy, torch_seconds = train_pytorch(args)
    rows.append({"suite": "train", "case": f"lenet5 {args.dataset} pytorch", "metric": "epoch time", "unit": "s", "value": torch_seconds})
    rows.append({"suite": "train", "case": f"lenet5 {args.dataset} pytorch", "metric": "test accuracy", "unit": "%", "value": 100 * torch_accuracy})
    if not args.skip_coppice:
        accuracy, seconds, weights = train_coppice(args, root)
        rows.append({"suite": "train", "case": f"lenet5 {args.dataset} coppice", "metric": "epoch time", "unit": "s",
                     "value": seconds, "ratio": seconds / torch_seconds})
        rows.append({"suite": "train", "case": f"lenet5 {args.dataset} coppice", "metric": "test accuracy", "unit": "%", "value": 100 * accuracy})
        rows.append({"suite": "train", "case": f"lenet5 {args.dataset} coppice weights in pytorch", "metric": "test accuracy",
                     "unit": "%", "value": 100 * accuracy_in_pytorch(args, weights)})
    print(f"LeNet-5 (3x3) on {args.dataset}, {args.epochs} epochs, batch {args.batch_size}, {args.threads} threads, PyTorch {torch.__version__}\n")
    print("| case | metric | value | ratio (Coppice / PyTorch) |")
    print("|---|---|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['metric']} | {r['value']:.3f} {r['unit']} | {r.get('ratio', ''):{'.2f' if 'ratio' in r else ''}} |")
    print()
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.exit(main())
