"""Pruned Llama files against their dense originals, one run, same thread count: Coppice's decode of a
pruned GGUF file (its matrices run from their nonzeros, `--sparse auto`) against Coppice and llama.cpp
on the dense file of the same value type, with the bytes of weights each decode step reads.

    scripts/llm-sparse-bench.sh               # writes the random-weight files, then runs this
    /opt/llamacpp-venv/bin/python benchmarks/llamacpp_sparse.py --threads 2 DENSE.gguf=PRUNED.gguf[,PRUNED.gguf] ...

Each round times, per group, Coppice on the dense file, llama.cpp on the dense file (loaded once,
warmed up), and Coppice on each pruned file (fresh `coppice bench llm -r 1` processes), so that a
machine whose speed drifts over minutes moves all alike. Medians of the rounds. "Byte ceiling" is
the dense file's weight bytes per token over the pruned one's: what decode gains if both stream at
the same rate.
"""
import os
import statistics

import llama_cpp

from llamacpp_common import LlamaCpp, coppice_bench, parse_arguments

args = parse_arguments("groups", "DENSE.gguf=PRUNED.gguf[,PRUNED.gguf...]")
pp, tg = f"pp{args.p}", f"tg{args.n}"

print(f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, {args.threads} threads; Coppice `coppice bench llm` "
      f"(pruned files: `--sparse auto`); {tg} and {pp} in tokens/s, median of {args.rounds} alternating rounds\n")
print(f"| file | Coppice {tg} | / Coppice dense | / llama.cpp dense | weights MB/token | byte ceiling | weight stream GB/s "
      f"| Coppice {pp} | / Coppice dense |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
for group in args.groups:
    dense, _, pruned = group.partition("=")
    files = [dense] + pruned.split(",")
    theirs_model = LlamaCpp(dense, args.p, args.n, args.threads)
    ours, theirs = {f: [] for f in files}, []
    for _ in range(args.rounds):
        for f in files:
            ours[f].append(coppice_bench(args.coppice, f, args.p, args.n, args.threads))
            if f == dense:
                theirs.append(theirs_model.timed())
    del theirs_model
    llama_tg = statistics.median(t[1] for t in theirs)

    def median(f, metric):
        return statistics.median(r[metric] for r in ours[f])

    print(f"| {os.path.basename(dense)} (llama.cpp) | {llama_tg:.2f} | | | | | | {statistics.median(t[0] for t in theirs):.1f} | |")
    for f in files:
        print(f"| {os.path.basename(f)} | {median(f, tg):.2f} | {median(f, tg) / median(dense, tg):.2f} | {median(f, tg) / llama_tg:.2f} "
              f"| {median(f, 'weights per token'):.0f} | {median(dense, 'weights per token') / median(f, 'weights per token'):.2f} "
              f"| {median(f, 'weight stream'):.1f} | {median(f, pp):.1f} | {median(f, pp) / median(dense, pp):.2f} |", flush=True)
