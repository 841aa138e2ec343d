"""Writes two small Hugging Face tokenizer.json files and the ids the `tokenizers` library gives a
set of texts, the reference for Coppice's tokenizer.json BPE reader:
  hf_tokenizer_llama3.json — byte-level BPE with Llama 3's layout: a Split pre-tokenizer with the
      Llama 3 regex, then ByteLevel without its own regex, ignore_merges, special tokens added;
  hf_tokenizer_gpt2.json — GPT-2's layout: ByteLevel with its built-in regex and a prefix space.
Both are trained here (500 tokens) on the opening chapters of Pride and Prejudice.
    /opt/torch-venv/bin/python Tests/CoppiceLLMTests/Fixtures/make_hf_tokenizer_fixture.py .data/austen/prideprejudice.txt
"""
import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

here = os.path.dirname(os.path.abspath(__file__))
text = open(sys.argv[1], encoding="utf-8").read()[:60_000]
pattern = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
texts = ["It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
         "Mr. Bennet's  reply: \"I'LL see—123456 times!\"\n\n\tEnd.", "naïve café 日本 🦙", "<|begin_of_text|>Hello<|eot_id|>", ""]
cases = {}
for name in ["llama3", "gpt2"]:
    tokenizer = Tokenizer(models.BPE(ignore_merges=(name == "llama3")))
    if name == "llama3":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
                                                           pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
                                  special_tokens=["<|begin_of_text|>", "<|eot_id|>"] if name == "llama3" else [])
    tokenizer.train_from_iterator([text], trainer)
    tokenizer.save(os.path.join(here, f"hf_tokenizer_{name}.json"))
    cases[name] = [{"text": t, "ids": tokenizer.encode(t).ids} for t in texts]
with open(os.path.join(here, "hf_tokenizer_cases.json"), "w") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
print({k: [len(c["ids"]) for c in v] for k, v in cases.items()})
