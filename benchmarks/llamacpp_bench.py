"""Coppice against llama.cpp on the same GGUF files, same thread count, one run:
llama-bench's pp (one batch of P random tokens into an empty cache) and tg (N single-token steps
from an empty cache), tokens per second, median of 3 rounds (scripts/llm-bench.sh asks for 5).

    python3 -m venv /opt/llamacpp-venv && CMAKE_ARGS=-DGGML_NATIVE=ON /opt/llamacpp-venv/bin/pip install llama-cpp-python
    scripts/llm-bench.sh                      # writes the random-weight GGUF files, then runs this
    /opt/llamacpp-venv/bin/python benchmarks/llamacpp_bench.py --threads 2 FILE.gguf ...

The two alternate: each round times Coppice (a fresh `coppice bench llm -r 1` process, which warms
up first) and then llama.cpp (loaded once per file, warmed up the same way: a prompt and one token),
so that a machine whose speed drifts over minutes moves both alike.
llama-cpp-python builds llama.cpp from source; its version is printed with the table.
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
parser.add_argument("models", nargs="+")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("-p", type=int, default=512)
parser.add_argument("-n", type=int, default=128)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--coppice", default=".build/release/coppice")
args = parser.parse_args()


def coppice(path):
    """One timed prompt and generation in a fresh process: (pp, tg) tokens/s."""
    env = dict(os.environ, COPPICE_NUM_THREADS=str(args.threads))
    out = subprocess.run([args.coppice, "bench", "llm", "--model", path, "-p", str(args.p), "-n", str(args.n), "-r", "1",
                          "--format", "json"], check=True, capture_output=True, text=True, env=env).stdout
    rows = {r["metric"]: r["value"] for r in json.loads(out)}
    return rows[f"pp{args.p}"], rows[f"tg{args.n}"]


class LlamaCpp:
    def __init__(self, path):
        self.llm = llama_cpp.Llama(model_path=path, n_ctx=args.p + args.n + 8, n_batch=args.p, n_ubatch=args.p, n_threads=args.threads,
                                   n_threads_batch=args.threads, verbose=False)
        rng = random.Random(1)
        self.tokens = [rng.randrange(self.llm.n_vocab() - 1) for _ in range(args.p)]
        self.llm.reset()
        self.llm.eval(self.tokens)
        self.llm.eval([self.tokens[0]])

    def prefill(self):
        self.llm.reset()
        self.llm.eval(self.tokens)

    def decode(self):
        self.llm.reset()
        for i in range(args.n):
            self.llm.eval([self.tokens[i % len(self.tokens)]])

    def timed(self):
        """One timed prompt and generation: (pp, tg) tokens/s."""
        start = time.perf_counter()
        self.prefill()
        middle = time.perf_counter()
        self.decode()
        return args.p / (middle - start), args.n / (time.perf_counter() - middle)


print(f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, {args.threads} threads; Coppice `coppice bench llm`; "
      f"tokens/s, median of {args.rounds} alternating rounds\n")
print("| model | test | llama.cpp | Coppice | Coppice / llama.cpp |")
print("|---|---|---:|---:|---:|", flush=True)
for path in args.models:
    theirs_model = LlamaCpp(path)
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(coppice(path))
        theirs.append(theirs_model.timed())
    del theirs_model
    name = os.path.basename(path)
    for i, test in enumerate([f"pp{args.p}", f"tg{args.n}"]):
        mine, other = statistics.median(r[i] for r in ours), statistics.median(r[i] for r in theirs)
        print(f"| {name} | {test} | {other:.1f} | {mine:.1f} | {mine / other:.2f} |", flush=True)
