"""Decode speed of several Coppice builds (or environment settings) against llama.cpp on one GGUF file,
alternating: each round times every variant once (a fresh `coppice bench llm` process: a prompt of 8
tokens, then N single-token steps, 2 repetitions) and llama.cpp after each. On a machine whose memory
bandwidth drifts from minute to minute, only variants timed in the same rounds can be compared.

    /opt/llamacpp-venv/bin/python benchmarks/llamacpp_ab.py MODEL.gguf /tmp/coppice-old /tmp/coppice-new \
        /tmp/coppice-new:COPPICE_NUM_THREADS=1

A variant is a binary, optionally followed by `:NAME=VALUE` for its environment. Prints each side's
tokens/s per round and each variant's median over llama.cpp's median.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import time

import llama_cpp

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("variants", nargs="+", help="BINARY or BINARY:NAME=VALUE")
parser.add_argument("-n", type=int, default=48, help="decode steps per timing (default 48)")
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()

llm = llama_cpp.Llama(model_path=args.model, n_ctx=args.n + 16, n_batch=64, n_threads=args.threads, n_threads_batch=args.threads,
                      verbose=False)
tokens = [random.Random(1).randrange(1000) for _ in range(args.n)]


def theirs():
    llm.reset()
    start = time.perf_counter()
    for token in tokens:
        llm.eval([token])
    return args.n / (time.perf_counter() - start)


def ours(variant):
    binary, _, setting = variant.partition(":")
    env = dict(os.environ, COPPICE_NUM_THREADS=str(args.threads))
    if setting:
        name, value = setting.split("=", 1)
        env[name] = value
    out = subprocess.run([binary, "bench", "llm", "--model", args.model, "-p", "8", "-n", str(args.n), "-r", "2", "--format", "json"],
                         check=True, capture_output=True, text=True, env=env).stdout
    return next(row["value"] for row in json.loads(out) if row["metric"].startswith("tg"))


theirs()  # warm-up
results, reference = {v: [] for v in args.variants}, []
for _ in range(args.rounds):
    for variant in args.variants:
        results[variant].append(ours(variant))
        reference.append(theirs())
print("llama.cpp", [round(x, 2) for x in reference])
for variant in args.variants:
    ratio = statistics.median(results[variant]) / statistics.median(reference)
    print(variant, [round(x, 2) for x in results[variant]], f"median / llama.cpp's {ratio:.3f}")
