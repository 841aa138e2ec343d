#!/usr/bin/env python3
"""A soak of `coppice serve` at its queue limit: more streaming and whole-reply clients than the server
has sequences and queue places, for --minutes. Every request must end one of two ways: a complete,
well-formed reply (a stream closed by a finish reason and [DONE], or a JSON completion with usage), or
429 at once; a timeout (a hang) or anything else fails the run. At the end the server's own counts
(/metrics) must equal what the clients saw, so no request was lost. Loopback only; standard library.

    python3 benchmarks/serve_soak.py --model .data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --minutes 10
"""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_load import ROOT, cpu_name, free_port, report, wait_ready  # noqa: E402


def attempt(port, index, tokens, timeout):
    """One request: 'ok', 'busy', or a failure description."""
    stream = index % 2 == 0
    body = json.dumps({"messages": [{"role": "user", "content": f"Say something about the number {index}."}],
                       "max_tokens": tokens, "temperature": 0.7, "seed": index, "stream": stream})
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read().decode()
        if response.status == 429:
            return "busy" if '"queue_full"' in text else f"429 without an error object: {text[:200]}"
        if response.status != 200:
            return f"HTTP {response.status}: {text[:200]}"
        if stream:
            events = [e for e in text.split("\n\n") if e]
            finishes = [json.loads(e[6:])["choices"][0].get("finish_reason") for e in events[:-1]]
            ok = events[-1] == "data: [DONE]" and finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])
            return "ok" if ok else f"malformed stream: {text[-300:]}"
        reply = json.loads(text)
        ok = reply["choices"][0]["finish_reason"] in ("stop", "length") and reply["usage"]["completion_tokens"] >= 1
        return "ok" if ok else f"malformed reply: {text[:300]}"
    except (socket.timeout, TimeoutError):
        return "hang"
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(ROOT, ".data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--queue-limit", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--timeout", type=float, default=120, help="seconds after which a request counts as hung")
    parser.add_argument("--output")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([args.binary, "serve", "--model", args.model, "--port", str(port), "--parallel", str(args.parallel),
                               "--queue-limit", str(args.queue_limit), "--context", "512"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    outcomes, lock, stop = {}, threading.Lock(), time.time() + 60 * args.minutes
    try:
        wait_ready(port, server)

        def client(c):
            n = 0
            while time.time() < stop:
                outcome = attempt(port, c * 1_000_000 + n, args.tokens, args.timeout)
                n += 1
                with lock:
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "busy":
                    time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        counted = lambda status: int(next((m.group(1) for m in [re.search(
            r'coppice_requests_total\{endpoint="/v1/chat/completions",status="' + status + r'"\} (\d+)', metrics)] if m), 0))
        served, refused = counted("200"), counted("429")
    finally:
        server.terminate()
        server.wait(timeout=60)
    ok, busy = outcomes.pop("ok", 0), outcomes.pop("busy", 0)
    failures = sum(outcomes.values())
    lines = [f"`benchmarks/serve_soak.py --minutes {args.minutes:g} --clients {args.clients} --parallel {args.parallel} "
             f"--queue-limit {args.queue_limit} --tokens {args.tokens}` on {os.path.basename(args.model)}, {cpu_name()}.", "",
             "| outcome | clients saw | server counted |", "|---|---:|---:|",
             f"| complete replies (half streamed) | {ok} | {served} |", f"| refused with 429 (queue full) | {busy} | {refused} |",
             f"| hung, failed or malformed | {failures} | |"]
    lines += [f"- {count} × {outcome}" for outcome, count in sorted(outcomes.items())][:20]
    report(lines, args.output)
    sys.exit(0 if failures == 0 and ok == served and busy == refused and ok > 0 else 1)


if __name__ == "__main__":
    main()
