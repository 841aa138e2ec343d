#!/usr/bin/env python3
"""Writes reference.safetensors with Hugging Face's `safetensors` package (and torch for BF16), the
fixture that Coppice's reader is tested against. Run from this directory:
    /opt/torch-venv/bin/python make_safetensors_fixture.py
"""
import torch
from safetensors.torch import save_file

values = torch.tensor([[0.0, 1.0, -2.5], [3.140625, 1e-3, 65504.0]])
tensors = {
    "f32.matrix": values.clone(),
    "f16.matrix": values.to(torch.float16),
    "bf16.matrix": values.to(torch.bfloat16),
    "f32.vector": torch.arange(5, dtype=torch.float32) * 0.5,
    "f32.scalar": torch.tensor(7.25),
    "f32.empty": torch.zeros(0, 3),
}
save_file(tensors, "reference.safetensors", metadata={"format": "pt", "producer": "coppice fixture"})
