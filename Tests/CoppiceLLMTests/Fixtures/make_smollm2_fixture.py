"""What llama.cpp (llama-cpp-python, in a virtual environment outside the repo) makes of the real
SmolLM2-135M-Instruct Q4_1 GGUF that scripts/fetch-data.sh fetches, the reference for Coppice's GGUF
tokenizer, chat template, Q4_1 runtime and perplexity (smollm2_llamacpp.json):
  tokens: ids of texts (no BOS; special-token text as text, and parsed);
  chat: a conversation rendered by the file's own Jinja template and tokenized as llama.cpp does;
  greedy: 24-token greedy continuations of prompts;
  perplexity: exp(mean NLL) over the first 512 tokens of Emma in windows of 256 (each window
      restarts; every token after a window's first is scored), as `coppice perplexity` counts.
    /opt/llamacpp-venv/bin/python Tests/CoppiceLLMTests/Fixtures/make_smollm2_fixture.py
"""
import json
import math
import os

import jinja2
import llama_cpp
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
model = os.path.join(root, ".data", "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
llm = llama_cpp.Llama(model_path=model, n_ctx=512, n_batch=512, n_threads=2, logits_all=True, verbose=False)

texts = ["The capital of France is", "Once upon a time, in 1999, there were 12345 cats.",
         "Mr. Bennet's  reply: \"I'LL see—123456 times!\"\n\n\tEnd.  ", "naïve café 日本 🦙 x² ½",
         "def f(x):\n    return x**2  # square\n", "<|im_start|>user\nHi<|im_end|>", ""]
tokens = [{"text": t, "ids": llm.tokenize(t.encode(), add_bos=False, special=False),
           "special_ids": llm.tokenize(t.encode(), add_bos=False, special=True)} for t in texts]

template = jinja2.Environment().from_string(llm.metadata["tokenizer.chat_template"])
conversation = [{"role": "user", "content": "What is the capital of France?"},
                {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "And of Italy?"}]
chats = []
for messages in [conversation, [{"role": "system", "content": "Answer briefly."}] + conversation]:
    text = template.render(messages=messages, add_generation_prompt=True)
    chats.append({"messages": messages, "text": text, "ids": llm.tokenize(text.encode(), add_bos=False, special=True)})

prompts = ["The capital of France is", "def fibonacci(n):", "Once upon a time, in 1999, there were 12345 cats", "Water boils at",
           "The three primary colors are", "Here is a list of fruits:"]
greedy = []
for p in prompts:
    out = llm(p, max_tokens=24, temperature=0)
    greedy.append({"prompt": p, "text": out["choices"][0]["text"]})

with open(os.path.join(root, ".data", "austen", "emma.txt"), encoding="utf-8") as f:
    ids = llm.tokenize(f.read()[:20000].encode(), add_bos=False, special=False)[:512]
nll, count = 0.0, 0
for start in range(0, len(ids) - 1, 256):
    window = ids[start:start + 256]
    llm.reset()
    llm.eval(window)
    logits = np.array(llm.scores[:len(window)], dtype=np.float64)
    for i in range(len(window) - 1):
        top = logits[i].max()
        nll += top + math.log(np.exp(logits[i] - top).sum()) - logits[i][window[i + 1]]
        count += 1
perplexity = {"text": "emma.txt, first 20000 characters", "tokens": 512, "window": 256, "scored": count, "perplexity": math.exp(nll / count)}

with open(os.path.join(here, "smollm2_llamacpp.json"), "w") as f:
    json.dump({"llama_cpp_python": llama_cpp.__version__, "tokens": tokens, "chat": chats, "greedy": greedy, "perplexity": perplexity},
              f, indent=1, ensure_ascii=False)
print(perplexity)
