#!/usr/bin/env python3
"""A PyTorch reference for `coppice prune-llm`, written from the papers (Wanda: Sun et al. 2023;
SparseGPT: Frantar & Alistarh 2023, after their reference code's llama loops): the same GGUF model
(read and dequantized here with numpy), the same calibration sequences and held-out tokens (the
file's vocabulary through Hugging Face `tokenizers`), pruned layer by layer with each layer's inputs
from the already-pruned layers before it. For each method and sparsity it runs `coppice prune-llm`
too and prints both perplexities, their ratio, and for Wanda and magnitude the share of Coppice's
zeros that PyTorch's masks also have.

torch is not a dependency of Coppice: install it into a virtual environment outside the repo, e.g.
    python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch numpy tokenizers
    /opt/torch-venv/bin/python benchmarks/pytorch_llm_prune.py --threads 2
With --fixture it writes Tests/CoppiceLLMTests/Fixtures/llama_pruning_reference.json instead (see there).
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from coppice_build import build_coppice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SITES = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}


def read_gguf(path):
    """Metadata and tensors (F32, F16, Q4_1, Q8_0 dequantized; row-major shape) of a GGUF v3 file."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    pos = 0

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string():
        nonlocal pos
        n = take("Q")
        text = bytes(data[pos:pos + n]).decode("utf-8", "replace")
        pos += n
        return text

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            inner, n = take("I"), take("Q")
            return [value(inner) for _ in range(n)]
        return take(scalar[kind])

    assert bytes(data[:4]) == b"GGUF"
    pos = 4
    _, count, kv = take("I"), take("Q"), take("Q")
    metadata = {}
    for _ in range(kv):
        key = string()
        metadata[key] = value(take("I"))
    infos = []
    for _ in range(count):
        name, dims = string(), take("I")
        ne = [take("Q") for _ in range(dims)]
        infos.append((name, ne, take("I"), take("Q")))
    alignment = metadata.get("general.alignment", 32)
    start = (pos + alignment - 1) // alignment * alignment
    tensors = {}
    for name, ne, kind, offset in infos:
        n = int(np.prod(ne))
        raw = data[start + offset:]
        if kind == 0:
            values = np.frombuffer(raw, dtype=np.float32, count=n)
        elif kind == 1:
            values = np.frombuffer(raw, dtype=np.float16, count=n).astype(np.float32)
        elif kind == 8:
            blocks = np.frombuffer(raw, dtype=np.uint8, count=n // 32 * 34).reshape(-1, 34)
            d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
            values = (d * blocks[:, 2:].view(np.int8).astype(np.float32)).reshape(-1)
        elif kind == 3:
            blocks = np.frombuffer(raw, dtype=np.uint8, count=n // 32 * 20).reshape(-1, 20)
            d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
            m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
            q = np.concatenate([blocks[:, 4:] & 0x0F, blocks[:, 4:] >> 4], axis=1).astype(np.float32)
            values = (q * d + m).reshape(-1)
        else:
            raise SystemExit(f"{name}: ggml type {kind} is not read by this reference")
        tensors[name] = torch.from_numpy(np.array(values, dtype=np.float32)).reshape(list(reversed(ne)))
    return metadata, tensors


def tokenizer_of(metadata):
    """The file's byte-level BPE (SmolLM2's `smollm` pre-tokenizer: single digits, then GPT-2's regex)."""
    tokens, types = metadata["tokenizer.ggml.tokens"], metadata["tokenizer.ggml.token_type"]
    vocab = {t: i for i, (t, kind) in enumerate(zip(tokens, types)) if kind == 1}
    merges = [tuple(m.split(" ", 1)) for m in metadata["tokenizer.ggml.merges"]]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                       pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


class Llama:
    """The Llama forward of the GGUF file, layer by layer (q/k rows back to rotate-half order)."""

    def __init__(self, metadata, tensors):
        self.d, self.layers = metadata["llama.embedding_length"], metadata["llama.block_count"]
        self.heads, self.kv = metadata["llama.attention.head_count"], metadata["llama.attention.head_count_kv"]
        self.hd, self.eps = self.d // self.heads, metadata["llama.attention.layer_norm_rms_epsilon"]
        theta = metadata.get("llama.rope.freq_base", 10000.0)
        self.inv = 1.0 / theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
        if "rope_freqs.weight" in tensors:  # llama3 scaling: each frequency's divisor
            self.inv = self.inv / tensors["rope_freqs.weight"].double()
        self.embedding, self.final = tensors["token_embd.weight"], tensors["output_norm.weight"]
        self.head = tensors.get("output.weight", self.embedding)
        self.w = []
        for l in range(self.layers):
            layer = {k: tensors[f"blk.{l}.{v}.weight"].clone() for k, v in SITES.items()}
            for name, heads in (("q", self.heads), ("k", self.kv)):
                w = layer[name]
                layer[name] = w.reshape(heads, w.shape[0] // heads // 2, 2, w.shape[1]).permute(0, 2, 1, 3).reshape(w.shape)
            layer["attn_norm"], layer["ffn_norm"] = tensors[f"blk.{l}.attn_norm.weight"], tensors[f"blk.{l}.ffn_norm.weight"]
            self.w.append(layer)

    def norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    def rotate(self, x):
        t = x.shape[0]
        angles = torch.arange(t, dtype=torch.float64)[:, None] * self.inv[None, :]
        cos, sin = torch.cat([angles.cos()] * 2, -1).float(), torch.cat([angles.sin()] * 2, -1).float()
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos[:, None, :] + rotated * sin[:, None, :]

    def layer(self, l, x, observe=None):
        """Layer l on x [t, d]; observe(site, input) sees each group of matrices' input."""
        w, t = self.w[l], x.shape[0]
        h = self.norm(x, w["attn_norm"])
        if observe: observe("attention", h)
        q = self.rotate((h @ w["q"].T).reshape(t, self.heads, self.hd))
        k = self.rotate((h @ w["k"].T).reshape(t, self.kv, self.hd))
        v = (h @ w["v"].T).reshape(t, self.kv, self.hd)
        group = self.heads // self.kv
        k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
        scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(self.hd)
        scores = scores.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        attended = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(t, self.d)
        if observe: observe("output", attended)
        x = x + attended @ w["o"].T
        h = self.norm(x, w["ffn_norm"])
        if observe: observe("feedForward", h)
        hidden = torch.nn.functional.silu(h @ w["gate"].T) * (h @ w["up"].T)
        if observe: observe("down", hidden)
        return x + hidden @ w["down"].T

    def perplexity(self, ids, window):
        nll, count = 0.0, 0
        for start in range(0, len(ids) - 1, window):
            chunk = ids[start:start + window]
            if len(chunk) < 2: break
            x = self.embedding[torch.tensor(chunk)]
            for l in range(self.layers): x = self.layer(l, x)
            logits = (self.norm(x, self.final) @ self.head.T).double()
            nll += torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(chunk[1:]), reduction="sum").item()
            count += len(chunk) - 1
        return math.exp(nll / count)


SITE_OF = {"q": "attention", "k": "attention", "v": "attention", "o": "output", "gate": "feedForward", "up": "feedForward", "down": "down"}


def prune(model, calibration, method, sparsity, block=128, damp=0.01, hessian=torch.float32):
    """The papers' loops: statistics of each layer's inputs, prune its seven matrices, pass on. SparseGPT's
    Hessian is summed in `hessian` precision per sequence (float32 as SparseGPT's code, and Coppice, do)."""
    n_m = tuple(map(int, sparsity.split(":"))) if ":" in sparsity else None
    hidden = [model.embedding[torch.tensor(c)] for c in calibration]
    for l in range(model.layers):
        stats = {}
        if method != "magnitude":
            def observe(site, x):
                x = x.double()
                if method == "wanda":
                    stats[site] = stats.get(site, 0) + (x * x).sum(0)
                else:
                    x = x.to(hessian)
                    stats[site] = stats.get(site, 0) + (x.T @ x).double()
            with torch.no_grad():
                for h in hidden: model.layer(l, h, observe)
        for name, site in SITE_OF.items():
            w = model.w[l][name]
            if method == "sparsegpt":
                model.w[l][name] = sparsegpt(w, stats[site], sparsity, n_m, block, damp)
                continue
            score = w.abs() if method == "magnitude" else w.abs() * stats[site].sqrt().float()[None, :]
            mask = torch.zeros_like(w, dtype=torch.bool)
            if n_m:
                keep, m = n_m
                groups = score.reshape(-1, m)
                # A stable sort, not topk: the lowest scores with ties to the earlier input, as Coppice breaks them
                # (dequantized Q4_1 weights tie often).
                mask = mask.reshape(-1, m).scatter_(1, torch.sort(groups, dim=1, stable=True)[1][:, :m - keep], True).reshape(w.shape)
            elif method == "wanda":
                k = int(w.shape[1] * float(sparsity))
                mask.scatter_(1, torch.sort(score, dim=1, stable=True)[1][:, :k], True)
            else:
                k = int(w.numel() * float(sparsity))
                mask.view(-1)[torch.sort(score.flatten(), stable=True)[1][:k]] = True
            model.w[l][name] = w.masked_fill(mask, 0)
        with torch.no_grad():
            hidden = [model.layer(l, h) for h in hidden]
        print(f"reference: layer {l + 1}/{model.layers}", file=sys.stderr)


def sparsegpt(w, h, sparsity, n_m, block, damp):
    """SparseGPT's fasterprune (float64 here), unstructured per block or N:M."""
    w, h = w.double().clone(), h.clone()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    h += damp * torch.mean(torch.diag(h)) * torch.eye(h.shape[0], dtype=torch.float64)
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    columns = w.shape[1]
    for i1 in range(0, columns, block):
        i2 = min(i1 + block, columns)
        w1, err1 = w[:, i1:i2].clone(), torch.zeros_like(w[:, i1:i2])
        d = torch.diag(hinv[i1:i2, i1:i2])
        mask1 = torch.zeros_like(w1, dtype=torch.bool)
        if not n_m:
            tmp = (w1 ** 2 / d[None, :] ** 2).flatten()
            k = int(tmp.numel() * float(sparsity))
            mask1.view(-1)[torch.sort(tmp, stable=True)[1][:k]] = True
        for i in range(i2 - i1):
            if n_m and i % n_m[1] == 0:
                keep, m = n_m
                tmp = w1[:, i:i + m] ** 2 / d[i:i + m][None, :] ** 2
                mask1.scatter_(1, i + torch.sort(tmp, dim=1, stable=True)[1][:, :m - keep], True)
            col = w1[:, i]
            q = col.masked_fill(mask1[:, i], 0)
            err = (col - q) / d[i]
            w1[:, i:] -= err[:, None] * hinv[i1 + i, i1 + i:i2][None, :]
            w1[:, i] = q
            err1[:, i] = err
        w[:, i1:i2] = w1
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    return w.float()


def write_fixture(args, metadata, tensors):
    """The reference's masks (hex bitmaps, row-major) and pruned weights' squared norms per matrix, on
    random calibration token ids, for Coppice's tests (`LlamaPruningTests`)."""
    generator = torch.Generator().manual_seed(3)
    vocabulary = tensors["token_embd.weight"].shape[0]
    calibration = [torch.randint(0, vocabulary, (24,), generator=generator).tolist() for _ in range(4)]
    cases = []
    for sparsity in args.sparsities:
        for method in args.methods:
            model = Llama(metadata, tensors)
            prune(model, calibration, method, sparsity, block=16)
            masks, norms = {}, {}
            for l in range(model.layers):
                for name in SITES:
                    w = model.w[l][name]
                    bits = np.packbits((w == 0).numpy().reshape(-1).astype(np.uint8))
                    masks[f"{l}.{name}"], norms[f"{l}.{name}"] = bits.tobytes().hex(), float((w.double() ** 2).sum())
            cases.append({"method": method, "sparsity": sparsity, "masks": masks, "squared_norms": norms})
    with open(args.fixture, "w") as f:
        json.dump({"calibration": calibration, "block": 16, "cases": cases}, f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.path.join(ROOT, ".data", "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--methods", nargs="+", default=["magnitude", "wanda", "sparsegpt"])
    p.add_argument("--sparsities", nargs="+", default=["0.5", "2:4"])
    p.add_argument("--calibration", default=os.path.join(ROOT, ".data", "austen", "emma.txt"))
    p.add_argument("--calibration-sequences", type=int, default=16)
    p.add_argument("--sequence-length", type=int, default=256)
    p.add_argument("--eval", default=os.path.join(ROOT, ".data", "austen", "persuasion.txt"))
    p.add_argument("--eval-tokens", type=int, default=4096)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--hessian", choices=["float32", "float64"], default="float32",
                   help="precision of SparseGPT's per-sequence x·xᵀ (float32: as SparseGPT's reference code and Coppice)")
    p.add_argument("--fixture", help="write the reference's masks for --model on random calibration ids here, and stop")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.fixture:
        return write_fixture(args, *read_gguf(args.model))
    binary = build_coppice()
    metadata, tensors = read_gguf(args.model)
    tokenizer = tokenizer_of(metadata)
    ids = tokenizer.encode(open(args.calibration, encoding="utf-8").read()).ids
    n, length = args.calibration_sequences, args.sequence_length
    step = max(1, (len(ids) - length) // max(1, n - 1))
    calibration = [ids[s:s + length] for s in (min(i * step, len(ids) - length) for i in range(n))]
    held = tokenizer.encode(open(args.eval, encoding="utf-8").read()).ids[:args.eval_tokens]
    with torch.no_grad():
        dense = Llama(metadata, tensors).perplexity(held, length)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for sparsity in args.sparsities:
            for method in args.methods:
                model = Llama(metadata, tensors)
                prune(model, calibration, method, sparsity, hessian=getattr(torch, args.hessian))
                with torch.no_grad():
                    ours = model.perplexity(held, length)
                out = os.path.join(work, "pruned.gguf")
                text = subprocess.run([binary, "prune-llm", "--model", args.model, "--method", method, "--sparsity", sparsity,
                                       "--calibration", args.calibration, "--calibration-sequences", str(n), "--sequence-length",
                                       str(length), "--eval", args.eval, "--eval-tokens", str(args.eval_tokens), "--output", out,
                                       "--type", "f32"], check=True, capture_output=True, text=True).stdout
                coppice = float(text.split(" pruned\n")[0].split()[-1])
                _, pruned = read_gguf(out)
                agree = []
                for l in range(model.layers):
                    for name, gguf in SITES.items():
                        theirs = pruned[f"blk.{l}.{gguf}.weight"]
                        if name in ("q", "k"):
                            heads = model.heads if name == "q" else model.kv
                            theirs = theirs.reshape(heads, theirs.shape[0] // heads // 2, 2, -1).permute(0, 2, 1, 3).reshape(theirs.shape)
                        zeros = theirs == 0
                        agree.append(((model.w[l][name] == 0) & zeros).sum().item() / max(1, zeros.sum().item()))
                rows.append({"method": method, "sparsity": sparsity, "pytorch": ours, "coppice": coppice, "ratio": coppice / ours,
                             "mask_agreement": sum(agree) / len(agree)})
                print(f"{method} {sparsity}: PyTorch {ours:.3f}, Coppice {coppice:.3f}", file=sys.stderr)
    print(f"Coppice `prune-llm` against a PyTorch {torch.__version__} reference on {os.path.basename(args.model)}; "
          f"perplexity on {len(held)} tokens of {os.path.basename(args.eval)} (dense {dense:.3f} in PyTorch); "
          f"SparseGPT's x·xᵀ per sequence in {args.hessian}\n")
    print("| method | sparsity | PyTorch | Coppice | Coppice / PyTorch | Coppice zeros also zero in PyTorch |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['method']} | {r['sparsity']} | {r['pytorch']:.3f} | {r['coppice']:.3f} | {r['ratio']:.4f} | {100 * r['mask_agreement']:.2f}% |")
    print()
    print(json.dumps({"dense": dense, "rows": rows}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
