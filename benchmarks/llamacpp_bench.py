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
import os
import statistics

import llama_cpp

from llamacpp_common import LlamaCpp, coppice_bench, parse_arguments

args = parse_arguments("models", "GGUF files")


def coppice(path):
    """One timed prompt and generation in a fresh process: (pp, tg) tokens/s."""
    rows = coppice_bench(args.coppice, path, args.p, args.n, args.threads)
    return rows[f"pp{args.p}"], rows[f"tg{args.n}"]


print(f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, {args.threads} threads; Coppice `coppice bench llm`; "
      f"tokens/s, median of {args.rounds} alternating rounds\n")
print("| model | test | llama.cpp | Coppice | Coppice / llama.cpp |")
print("|---|---|---:|---:|---:|", flush=True)
for path in args.models:
    theirs_model = LlamaCpp(path, args.p, args.n, args.threads)
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(coppice(path))
        theirs.append(theirs_model.timed())
    del theirs_model
    name = os.path.basename(path)
    for i, test in enumerate([f"pp{args.p}", f"tg{args.n}"]):
        mine, other = statistics.median(r[i] for r in ours), statistics.median(r[i] for r in theirs)
        print(f"| {name} | {test} | {other:.1f} | {mine:.1f} | {mine / other:.2f} |", flush=True)
