#!/usr/bin/env python3
"""What constrained decoding costs in `coppice serve`: the same greedy chat request, free and with
`response_format` {"type": "json_object"}, alternated --rounds times on one server (one sequence);
generated tokens over the whole request's time (prompt included) of each, the median, and the first
reply's length and opening. A model that writes JSON by
itself pays only the check of each sampled token; one whose sampled tokens the grammar refuses pays
the vocabulary mask at those tokens. Loopback only; standard library only.

    python3 benchmarks/serve_constrained.py --model A.gguf [--model B.gguf ...]

Prints a markdown table; --output writes it too.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_load import ROOT, cpu_name, free_port, report, wait_ready  # noqa: E402

PROMPT = "Describe Paris as JSON with keys city, country, population_millions, capital."


def chat(port, tokens, extra):
    body = json.dumps(dict({"messages": [{"role": "user", "content": PROMPT}], "max_tokens": tokens, "temperature": 0}, **extra))
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    reply = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {reply}")
    seconds = time.perf_counter() - started
    tokens = reply["usage"]["completion_tokens"]
    return tokens / seconds, reply["choices"][0]["message"]["content"], tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output")
    args = parser.parse_args()
    lines = [f"`benchmarks/serve_constrained.py --tokens {args.tokens} --rounds {args.rounds}` on {cpu_name()}; greedy, "
             f"one sequence; prompt: \"{PROMPT}\"", "",
             "| file | reply | tokens | tokens/s (median) | vs free | reply opens with |", "|---|---|---:|---:|---:|---|"]
    for model in args.model:
        port = free_port()
        process = subprocess.Popen([args.binary, "serve", "--model", model, "--port", str(port), "--parallel", "1", "--context", "1024"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port, process)
            chat(port, 2, {})
            kinds = [("free", {}), ("json_object", {"response_format": {"type": "json_object"}})]
            runs = {name: [] for name, _ in kinds}
            for _ in range(args.rounds):
                for name, extra in kinds:
                    runs[name].append(chat(port, args.tokens, extra))
        finally:
            process.terminate()
            process.wait(timeout=60)
        free = statistics.median(run[0] for run in runs["free"])
        for name, _ in kinds:
            speed = statistics.median(run[0] for run in runs[name])
            opening = json.dumps(runs[name][0][1][:48])[1:-1].replace("|", "\\|")
            lines.append(f"| {os.path.basename(model)} | {name} | {runs[name][0][2]} | {speed:.1f} | {speed / free:.2f}× | `{opening}` |")
    report(lines, args.output)


if __name__ == "__main__":
    main()
