#!/usr/bin/env python3
"""Runs `coppice bench dlrm` and times the same DLRM in PyTorch CPU in the same run (same threads):
8 EmbeddingBag tables × 100,000 × 64 with sparse gradients, bottom MLP 13-512-256-64, dot interaction
(strict lower triangle, as dlrm_s_pytorch), top MLP 512-256-1, one-hot random batches; a training
step (forward, BCE-with-logits, backward, SGD) and inference, at batch 128 and 2048. Prints Coppice
time / PyTorch time per case.

    /opt/torch-venv/bin/python benchmarks/pytorch_dlrm.py --threads 2 --rounds 3
"""
import argparse
import json
import os
import subprocess
import sys

import torch

from coppice_build import build_coppice
from timing import alternate_rounds, median_seconds


class DLRM(torch.nn.Module):
    def __init__(self, tables=8, rows=100_000, d=64):
        super().__init__()
        self.bot = torch.nn.Sequential(torch.nn.Linear(13, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
                                       torch.nn.Linear(256, d), torch.nn.ReLU())
        self.emb = torch.nn.ModuleList([torch.nn.EmbeddingBag(rows, d, mode="sum", sparse=True) for _ in range(tables)])
        n = tables + 1
        self.li = torch.tensor([i for i in range(n) for j in range(i)])
        self.lj = torch.tensor([j for i in range(n) for j in range(i)])
        self.top = torch.nn.Sequential(torch.nn.Linear(n * (n - 1) // 2 + d, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                       torch.nn.ReLU(), torch.nn.Linear(256, 1))

    def forward(self, dense, indices, offsets):
        x = self.bot(dense)
        t = torch.cat([x] + [e(i, o) for e, i, o in zip(self.emb, indices, offsets)], dim=1).view(x.shape[0], -1, x.shape[1])
        z = torch.bmm(t, t.transpose(1, 2))
        return self.top(torch.cat([x, z[:, self.li, self.lj]], dim=1))


def torch_cases(budget):
    g = torch.Generator().manual_seed(0)
    model = DLRM()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    out = {}
    for batch in (128, 2048):
        dense = torch.rand(batch, 13, generator=g)
        indices = [torch.randint(0, 100_000, (batch,), generator=g) for _ in range(8)]
        offsets = [torch.arange(batch) for _ in range(8)]
        labels = torch.randint(0, 2, (batch, 1), generator=g).float()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(dense, indices, offsets), labels).backward()
            opt.step()

        name = f"dlrm 8x100000x64 bot 13-512-256-64 top 512-256-1 batch {batch}"
        out[name + " train step"] = median_seconds(step, budget)
        with torch.no_grad():
            out[name + " inference"] = median_seconds(lambda: torch.sigmoid(model(dense, indices, offsets)), budget)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--budget", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate Coppice's and PyTorch's timings this many times and report the medians (default 1)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1; got {args.rounds}")
    torch.set_num_threads(args.threads)
    binary = build_coppice()
    env = dict(os.environ, COPPICE_NUM_THREADS=str(args.threads))

    def coppice():
        results = json.loads(subprocess.run([binary, "bench", "dlrm", "--format", "json", "--budget", str(args.budget)],
                                            check=True, capture_output=True, text=True, env=env).stdout)
        return {r["case"]: r["value"] for r in results}

    timed = alternate_rounds(args.rounds, coppice, lambda: {case: s * 1e3 for case, s in torch_cases(args.budget).items()})
    print(f"DLRM, {args.threads} threads, PyTorch {torch.__version__} (ratio = Coppice / PyTorch"
          + (f"; medians of {args.rounds} alternating rounds, and each round's ratio)\n" if args.rounds > 1 else ")\n"))
    print("| case | Coppice ms | PyTorch ms | ratio |" + (" rounds |" if args.rounds > 1 else ""))
    print("|---|---:|---:|---:|" + ("---|" if args.rounds > 1 else ""))
    rows = []
    for case, (ours, theirs, ratios) in timed.items():
        rows.append({"case": case, "coppice_ms": ours, "pytorch_ms": theirs, "ratio": ours / theirs, "round_ratios": ratios})
        rounds = " " + " ".join(f"{r:.2f}" for r in ratios) + " |" if args.rounds > 1 else ""
        print(f"| {case} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f} |{rounds}")
    print()
    print(json.dumps(rows, indent=2))

if __name__ == "__main__":
    sys.exit(main())
