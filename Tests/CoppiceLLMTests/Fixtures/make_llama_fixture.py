"""Writes llama_tied.safetensors / llama_untied.safetensors (+ config JSON) and their logits from
Hugging Face transformers' LlamaForCausalLM, the reference for CoppiceLLM's Llama.

Run with a venv holding torch, transformers (4.46.3 was used) and safetensors:
    /opt/torch-venv/bin/python Tests/CoppiceLLMTests/Fixtures/make_llama_fixture.py
Tiny random models that still exercise what matters: grouped-query attention (4 query heads over
2 KV heads), rotary embeddings with the llama3 scaling whose bands all occur at head size 16
(theta 10000, original context 256: high, smooth and low frequencies), tied or untied output
embeddings, and weights large enough (std 0.1, norm weights around 1) that the logits are not flat.
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
tokens = torch.tensor([[1, 17, 42, 5, 88, 23, 23, 7, 64, 91, 3], [95, 0, 12, 12, 50, 33, 2, 71, 8, 19, 44]])

for name, tied in [("tied", True), ("untied", False)]:
    torch.manual_seed(7 if tied else 8)
    config = LlamaConfig(vocab_size=96, hidden_size=64, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=2048,
                         tie_word_embeddings=tied, attention_bias=False, mlp_bias=False,
                         rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 256})
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for key, p in model.named_parameters():
            if "norm" in key:
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0, 0.1)
        logits = model(tokens).logits
    state = {k: v.contiguous().clone() for k, v in model.state_dict().items() if not (tied and k == "lm_head.weight")}
    save_file(state, os.path.join(here, f"llama_{name}.safetensors"))
    save_file({"logits": logits.contiguous(), "tokens": tokens.float().contiguous()}, os.path.join(here, f"llama_{name}_logits.safetensors"))
    with open(os.path.join(here, f"llama_{name}_config.json"), "w") as f:
        json.dump(config.to_dict(), f, indent=1, sort_keys=True)
print("wrote fixtures to", here)
