"""What the llama.cpp comparisons share: llama.cpp loaded through llama-cpp-python and timed as
llama-bench times it, and one `coppice bench llm` run in a fresh process."""
import argparse
import json
import os
import random
import subprocess
import time

import llama_cpp


def parse_arguments(files_name, files_help):
    """The comparisons' options: the files, threads, prompt (-p) and generated (-n) tokens, rounds, binary."""
    parser = argparse.ArgumentParser()
    parser.add_argument(files_name, nargs="+", help=files_help)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("-p", type=int, default=512)
    parser.add_argument("-n", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--coppice", default=".build/release/coppice")
    return parser.parse_args()


class LlamaCpp:
    """A GGUF file in llama.cpp, warmed up with a prompt and one token; `timed()` gives (pp, tg) tokens/s:
    P random tokens into an empty cache, then N single-token steps from an empty cache."""

    def __init__(self, path, p, n, threads):
        self.p, self.n = p, n
        self.llm = llama_cpp.Llama(model_path=path, n_ctx=p + n + 8, n_batch=p, n_ubatch=p, n_threads=threads,
                                   n_threads_batch=threads, verbose=False)
        rng = random.Random(1)
        self.tokens = [rng.randrange(self.llm.n_vocab() - 1) for _ in range(p)]
        self.llm.reset()
        self.llm.eval(self.tokens)
        self.llm.eval([self.tokens[0]])

    def timed(self):
        self.llm.reset()
        start = time.perf_counter()
        self.llm.eval(self.tokens)
        middle = time.perf_counter()
        self.llm.reset()
        for i in range(self.n):
            self.llm.eval([self.tokens[i % len(self.tokens)]])
        return self.p / (middle - start), self.n / (time.perf_counter() - middle)


def coppice_bench(binary, path, p, n, threads, *extra):
    """One `coppice bench llm -r 1` run (it warms up first) in a fresh process: its rows by metric."""
    env = dict(os.environ, COPPICE_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "bench", "llm", "--model", path, "-p", str(p), "-n", str(n), "-r", "1", "--format", "json", *extra],
                         check=True, capture_output=True, text=True, env=env).stdout
    return {r["metric"]: r["value"] for r in json.loads(out)}
