#!/usr/bin/env python3
"""Writes dlrm_reference.safetensors: a small DLRM's weights under the reference implementation's
names (bot_l.*, emb_l.*, top_l.*), a batch (dense features, multi-hot indices and offsets per table),
and the click probabilities that facebookresearch/dlrm's forward pass computes for them — bottom MLP,
EmbeddingBag sum pooling, dot interaction (torch.bmm, strict lower triangle via li/lj as in
dlrm_s_pytorch.interact_features), top MLP with a sigmoid. Run with a Python that has torch and
safetensors:
    /opt/torch-venv/bin/python Tests/CoppiceRecTests/Fixtures/make_dlrm_fixture.py
"""
import os

import torch
from safetensors.torch import save_file

torch.manual_seed(3)
bottom, top, d, tables, batch = [5, 8, 4], [6, 1], 4, [7, 11, 5], 6


def mlp(widths, sigmoid_last):
    layers = []
    for i, (n, m) in enumerate(zip(widths, widths[1:])):
        layers.append(torch.nn.Linear(n, m))
        layers.append(torch.nn.Sigmoid() if sigmoid_last and i == len(widths) - 2 else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


bot_l = mlp(bottom, False)
emb_l = torch.nn.ModuleList([torch.nn.EmbeddingBag(n, d, mode="sum") for n in tables])
ni = len(tables) + 1
top_l = mlp([ni * (ni - 1) // 2 + d] + top, True)

dense = torch.randn(batch, bottom[0])
indices, offsets = [], []
for n in tables:
    bags = [torch.randint(0, n, (int(k),)) for k in torch.randint(0, 3, (batch,))]  # empty bags included
    offsets.append(torch.tensor([0] + [len(b) for b in bags][:-1]).cumsum(0))
    indices.append(torch.cat(bags) if sum(len(b) for b in bags) else torch.zeros(0, dtype=torch.long))

with torch.no_grad():
    x = bot_l(dense)
    ly = [emb(i, o) for emb, i, o in zip(emb_l, indices, offsets)]
    T = torch.cat([x] + ly, dim=1).view((batch, -1, d))
    Z = torch.bmm(T, torch.transpose(T, 1, 2))
    li = torch.tensor([i for i in range(ni) for j in range(i)])
    lj = torch.tensor([j for i in range(ni) for j in range(i)])
    R = torch.cat([x, Z[:, li, lj]], dim=1)
    p = top_l(R)

tensors = {f"bot_l.{k}": v for k, v in bot_l.state_dict().items()}
tensors.update({f"emb_l.{k}": v for k, v in emb_l.state_dict().items()})
tensors.update({f"top_l.{k}": v for k, v in top_l.state_dict().items()})
tensors["input.dense"] = dense
for t, (i, o) in enumerate(zip(indices, offsets)):
    tensors[f"input.indices.{t}"] = i.to(torch.int32)
    tensors[f"input.offsets.{t}"] = o.to(torch.int32)
tensors["output.probability"] = p
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dlrm_reference.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path)
print(path, p.flatten().tolist())
