#!/usr/bin/env python3
"""Start-up of `coppice serve` (and, with --llamacpp-python, of llama.cpp's server from
llama-cpp-python, 2 threads, on the same file): seconds from launch until /health answers, until the
first one-token chat reply has come back, and the server's resident memory then. The file is read
once first, so it sits in the page cache as on a machine that has just used it; the median of
--repeats launches. Loopback only; standard library only.

    python3 benchmarks/serve_startup.py --model A.gguf [--model B.gguf ...] [--llamacpp-python /opt/llamacpp-venv/bin/python]

--compare-binary OTHER times a second coppice build too (for example one built from an earlier commit).
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
from serve_load import ROOT, cpu_name, free_port, report  # noqa: E402


def answered(port, method, path, body=None, timeout=600):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def launch(command, port, timeout):
    """(seconds to /health, seconds to the first reply, resident MiB) for one launch."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # llama.cpp's server has no /health route: /v1/models is ready at the same moment.
        while not answered(port, "GET", "/v1/models", timeout=5):
            if process.poll() is not None:
                raise SystemExit(f"{command[0]} exited with {process.returncode}")
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"{command[0]} did not answer within {timeout} s")
            time.sleep(0.02)
        ready = time.perf_counter() - started
        body = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0})
        if not answered(port, "POST", "/v1/chat/completions", body, timeout):
            raise SystemExit(f"{command[0]}: the first chat request failed")
        first = time.perf_counter() - started
        return ready, first, resident_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    parser.add_argument("--compare-binary", help="a second coppice build to time the same way")
    parser.add_argument("--llamacpp-python", help="a Python with llama-cpp-python[server]: also time llama.cpp's server")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--output")
    args = parser.parse_args()
    servers = [("Coppice", args.binary)] + ([("Coppice (--compare-binary)", args.compare_binary)] if args.compare_binary else [])
    lines = [f"`benchmarks/serve_startup.py --repeats {args.repeats}` on {cpu_name()}, {args.threads} threads; the file in "
             "the page cache; median of the launches.", "",
             "| file | server | to /health, s | to the first reply, s | resident MiB |", "|---|---|---:|---:|---:|"]
    for model in args.model:
        with open(model, "rb") as f:
            while f.read(1 << 24):
                pass
        for name, binary in servers + ([("llama.cpp server", None)] if args.llamacpp_python else []):
            runs = []
            for _ in range(args.repeats):
                port = free_port()
                if binary:
                    command = [binary, "serve", "--model", model, "--port", str(port), "--parallel", "1", "--context", "1024"]
                else:
                    command = [args.llamacpp_python, "-m", "llama_cpp.server", "--model", model, "--port", str(port),
                               "--n_threads", str(args.threads), "--n_ctx", "1024"]
                runs.append(launch(command, port, args.timeout))
            ready, first, resident = (statistics.median(r[i] for r in runs) for i in range(3))
            lines.append(f"| {os.path.basename(model)} | {name} | {ready:.2f} | {first:.2f} | {resident:,.0f} |")
    report(lines, args.output)


if __name__ == "__main__":
    main()
