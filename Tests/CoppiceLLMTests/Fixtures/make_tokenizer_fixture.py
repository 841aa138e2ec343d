"""Writes tokenizer_cases.json: texts and the ids Meta's Llama 3 tokenizer gives them, computed with
tiktoken exactly as llama_models/llama3/tokenizer.py builds it (the ranks file, its regex, the 256
special tokens; special-token text encoded as plain text, Meta's default). The first case is
Meta's own test (test_tokenizer.py). Only ids are committed; tokenizer.model is fetched by
scripts/fetch-data.sh.
    /opt/torch-venv/bin/pip install tiktoken
    /opt/torch-venv/bin/python Tests/CoppiceLLMTests/Fixtures/make_tokenizer_fixture.py .data/llama3/tokenizer.model
"""
import json
import os
import sys

import tiktoken
from tiktoken.load import load_tiktoken_bpe

pattern = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
ranks = load_tiktoken_bpe(sys.argv[1])
named = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
         "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
         "<|eot_id|>", "<|python_tag|>", "<|image|>"]
special = named + [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(named))]
encoding = tiktoken.Encoding(name="llama3", pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens={t: len(ranks) + i for i, t in enumerate(special)})
texts = [
    "This is a test sentence.",
    "This is a response.",
    "user", "system", "assistant", "\n\n",
    "I'LL say it's THEY'RE and we'd've",
    "1234567 3.14159 -42 1e10 0x1F",
    "héllo wörld, naïve café — 日本語のテキスト, 한국어, עברית, العربية",
    "emoji 🤖🦙👩‍💻 and symbols ∑∫√ ≤ ≥",
    "  leading spaces and  double  spaces   \n\n\ttabs\t\r\nCRLF\r\n  trailing   ",
    "def f(x):\n    return x ** 2  # comment\n\nprint(f(3))\n",
    "<|begin_of_text|> looks special but is text",
    "a" * 300 + " " + "b c" * 50,
    "",
]
cases = [{"text": t, "ids": encoding.encode(t, allowed_special=set(), disallowed_special=())} for t in texts]
cases.append({"text": "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "allow_special": True,
              "ids": encoding.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", allowed_special="all")})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer_cases.json"), "w") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
print(len(cases), "cases")
