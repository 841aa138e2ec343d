"""Coppice against llama.cpp on the same GGUF files, same thread count, one run:
llama-bench's pp (one batch of P random tokens into an empty cache) and tg (N single-token steps
from an empty cache), tokens per second, median of 3.

    python3 -m venv /opt/llamacpp-venv && CMAKE_ARGS=-DGGML_NATIVE=ON /opt/llamacpp-venv/bin/pip install llama-cpp-python
    scripts/llm-bench.sh                      # writes the random-weight GGUF files, then runs this
    /opt/llamacpp-venv/bin/python benchmarks/llamacpp_bench.py --threads 2 FILE.gguf ...

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
parser.add_argument("--coppice", default=".build/release/coppice")
args = parser.parse_args()


def llamacpp(path):
    llm = llama_cpp.Llama(model_path=path, n_ctx=args.p + args.n + 8, n_batch=args.p, n_ubatch=args.p, n_threads=args.threads,
                          n_threads_batch=args.threads, verbose=False)
    rng = random.Random(1)
    tokens = [rng.randrange(llm.n_vocab() - 1) for _ in range(args.p)]

    def median(body):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            body()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def prefill():
        llm.reset()
        llm.eval(tokens)

    def decode():
        llm.reset()
        for i in range(args.n):
            llm.eval([tokens[i % len(tokens)]])

    return args.p / median(prefill), args.n / median(decode)


env = dict(os.environ)
coppice = json.loads(subprocess.run([args.coppice, "bench", "llm", "--model", ",".join(args.models), "-p", str(args.p), "-n", str(args.n),
                                     "--format", "json"], check=True, capture_output=True, text=True, env=env).stdout)
ours = {(r["case"], r["metric"]): r["value"] for r in coppice}
print(f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, {args.threads} threads; Coppice `coppice bench llm`; tokens/s, median of 3\n")
print("| model | test | llama.cpp | Coppice | Coppice / llama.cpp |")
print("|---|---|---:|---:|---:|")
for path in args.models:
    pp, tg = llamacpp(path)
    name = os.path.basename(path)
    for test, theirs in [(f"pp{args.p}", pp), (f"tg{args.n}", tg)]:
        mine = ours[(name, test)]
        print(f"| {name} | {test} | {theirs:.1f} | {mine:.1f} | {mine / theirs:.2f} |")
