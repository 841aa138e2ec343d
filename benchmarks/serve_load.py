#!/usr/bin/env python3
"""Load on `coppice serve` (and, with --llamacpp-python, llama.cpp's own server from llama-cpp-python
on the same GGUF file, 2 threads): with 1, 4 and 8 concurrent streaming clients, each sending
--requests text completions of --tokens tokens in turn, the aggregate generated tokens/s, p50/p99
time to first token and latency between streamed pieces of text (one per token, but for tokens that end
inside a character), and errors. Loopback only; bounded by request count and
--timeout. Standard library only (the clients are threads on http.client).

    python3 benchmarks/serve_load.py --model FILE.gguf [--llamacpp-python /opt/llamacpp-venv/bin/python]

llama-cpp-python's server needs its extras: /opt/llamacpp-venv/bin/pip install fastapi uvicorn
sse-starlette starlette-context pydantic-settings. Prints a markdown table; --output writes it too.
"""
import argparse
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/v1/models")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not answer in time")


def one_request(port, prompt, tokens, timeout):
    """One streamed completion: (time to first token, gaps between tokens, tokens, error or None)."""
    body = json.dumps({"prompt": prompt, "max_tokens": tokens, "temperature": 0, "stream": True})
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            return None, [], 0, f"HTTP {response.status}"
        first, last, gaps, count, finish = None, None, [], 0, None
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if not event.get("choices"):
                continue
            finish = event["choices"][0].get("finish_reason") or finish
            if not event["choices"][0].get("text"):
                continue
            now = time.perf_counter()
            if first is None:
                first = now - started
            else:
                gaps.append(now - last)
            last, count = now, count + 1
        # A token can end inside a character, so pieces of text can be fewer than tokens: a reply cut
        # at its limit has exactly max_tokens.
        return first, gaps, tokens if finish == "length" else count, None
    except Exception as error:  # a failed request is counted, not fatal
        return None, [], 0, str(error)


def level(port, clients, requests, tokens, timeout):
    results, lock = [], threading.Lock()

    def client(index):
        for r in range(requests):
            outcome = one_request(port, f"Request {index}.{r}: once upon a time", tokens, timeout)
            with lock:
                results.append(outcome)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    firsts = sorted(r[0] for r in results if r[0] is not None)
    gaps = sorted(g for r in results for g in r[1])
    pct = lambda xs, q: 1e3 * xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
    return {"tokens/s": sum(r[2] for r in results) / wall, "ttft p50": pct(firsts, 0.5), "ttft p99": pct(firsts, 0.99),
            "itl p50": pct(gaps, 0.5), "itl p99": pct(gaps, 0.99), "errors": sum(1 for r in results if r[3])}


def run(name, command, port, args):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
        one_request(port, "warm up", 4, args.timeout)
        return [(name, c, level(port, c, args.requests, args.tokens, args.timeout)) for c in args.clients]
    finally:
        process.terminate()
        process.wait(timeout=60)


def report(lines, output):
    """Prints the table and, with `output`, writes it there atomically."""
    text = "\n".join(lines) + "\n"
    print(text)
    if output:
        with open(output + ".tmp", "w") as f:
            f.write(text)
        os.replace(output + ".tmp", output)


def cpu_name():
    try:
        text = open("/proc/cpuinfo").read()
        field = lambda key: re.search(rf"^{key}\s*: (.*)$", text, re.M).group(1)
        return f"{field('model name')} (family {field('cpu family')} model {field('model')})"
    except (OSError, AttributeError):
        return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    parser.add_argument("--llamacpp-python", help="a Python with llama-cpp-python[server]: also run llama.cpp's server")
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8])
    parser.add_argument("--requests", type=int, default=2, help="requests per client per level")
    parser.add_argument("--tokens", type=int, default=64, help="tokens per request")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--output")
    args = parser.parse_args()
    parallel = max(args.clients)
    port = free_port()
    rows = run("Coppice", [args.binary, "serve", "--model", args.model, "--port", str(port), "--parallel", str(parallel),
                           "--context", "1024"], port, args)
    if args.llamacpp_python:
        port = free_port()
        rows += run("llama.cpp", [args.llamacpp_python, "-m", "llama_cpp.server", "--model", args.model, "--port", str(port),
                                  "--n_threads", str(args.threads), "--n_ctx", "1024"], port, args)
    lines = [f"`benchmarks/serve_load.py --model {os.path.basename(args.model)} --requests {args.requests} --tokens {args.tokens}`"
             f" on {cpu_name()}, {args.threads} threads; streaming text completions over loopback.", "",
             "| server | clients | generated tokens/s (all clients) | vs 1 client | TTFT p50 ms | TTFT p99 ms | inter-token p50 ms | inter-token p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    single = {name: m["tokens/s"] for name, c, m in rows if c == args.clients[0]}
    for name, c, m in rows:
        lines.append(f"| {name} | {c} | {m['tokens/s']:.1f} | {m['tokens/s'] / single[name]:.2f}× | {m['ttft p50']:.0f} | "
                     f"{m['ttft p99']:.0f} | {m['itl p50']:.1f} | {m['itl p99']:.1f} | {m['errors']} |")
    report(lines, args.output)
    sys.exit(1 if any(m["errors"] for _, _, m in rows) else 0)


if __name__ == "__main__":
    main()
