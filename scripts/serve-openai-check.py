#!/usr/bin/env python3
"""Drives `coppice serve` with the official `openai` Python client, as a user's program would: chat,
streaming, a text completion with a stop string, the model list, requests with tools (with
tool_choice auto a call or a text answer: a 135M model may not call; with tool_choice required a call,
and its result sent back), structured output (a JSON schema's `response_format`), a wrong API key,
malformed JSON, a prompt longer than the context, and a client that disconnects mid-stream (the next request must not
wait for the abandoned one). Starts the server on a free loopback port with SmolLM2-135M-Instruct
(scripts/fetch-data.sh brings it) and stops it at the end; exits 1 on the first failed check.

Needs the client in a virtual environment outside the repository:
    python3 -m venv /opt/openai-venv && /opt/openai-venv/bin/pip install openai
Usage: /opt/openai-venv/bin/python scripts/serve-openai-check.py [--binary .build/release/coppice]"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time

import openai

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, ".data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    args = parser.parse_args()
    server = subprocess.Popen(
        [args.binary, "serve", "--model", MODEL, "--port", "0", "--parallel", "2", "--context", "4096", "--api-key", "sk-test"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            port = int(match.group(1)) if match else None
        check(port is not None, "the server starts and names its port")
        base = f"http://127.0.0.1:{port}/v1"
        client = openai.OpenAI(base_url=base, api_key="sk-test", max_retries=0, timeout=120)

        models = client.models.list()
        check([m.id for m in models.data] == ["SmolLM2-135M-Instruct.Q4_1.gguf"], "models.list names the model")

        messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is the capital of France?"}]
        whole = client.chat.completions.create(model="any", messages=messages, max_tokens=16, temperature=0)
        reply = whole.choices[0].message.content
        check(bool(reply) and whole.usage.completion_tokens <= 16 and whole.choices[0].finish_reason in ("stop", "length"),
              f"chat.completions.create: {reply!r}, {whole.usage.completion_tokens} tokens, {whole.choices[0].finish_reason}")

        stream = client.chat.completions.create(model="any", messages=messages, max_tokens=16, temperature=0, stream=True,
                                                stream_options={"include_usage": True})
        pieces, finish, usage = [], None, None
        for chunk in stream:
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
                finish = chunk.choices[0].finish_reason or finish
            usage = chunk.usage or usage
        check("".join(pieces) == reply and finish == whole.choices[0].finish_reason and usage is not None,
              "streamed chat: the same reply, piece by piece, with usage")

        text = client.completions.create(model="any", prompt="The capital of France is", max_tokens=20, temperature=0, stop=["."])
        check(text.choices[0].finish_reason == "stop" and "." not in text.choices[0].text,
              f"completions.create with a stop string: {text.choices[0].text!r}")

        tools = [{"type": "function", "function": {
            "name": "get_weather", "description": "The current weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        question = [{"role": "user", "content": "What is the weather in Paris?"}]
        answer = client.chat.completions.create(model="any", messages=question, tools=tools, max_tokens=48, temperature=0)
        choice = answer.choices[0]
        check(choice.finish_reason == "tool_calls" or bool(choice.message.content),
              f"a request with tools, tool_choice auto: a call or a text answer ({choice.finish_reason})")
        # tool_choice "required": constrained decoding holds the reply to a call, whatever the model.
        answer = client.chat.completions.create(model="any", messages=question, tools=tools, tool_choice="required",
                                                max_tokens=48, temperature=0)
        choice = answer.choices[0]
        call = choice.message.tool_calls[0] if choice.message.tool_calls else None
        check(choice.finish_reason == "tool_calls" and call is not None and call.function.name == "get_weather"
              and isinstance(json.loads(call.function.arguments).get("city"), str),
              f"tool_choice required: tool call {call and call.function.name}({call and call.function.arguments})")
        followed = client.chat.completions.create(model="any", tools=tools, max_tokens=16, temperature=0, messages=question + [
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "{\"temperature\": 18, \"sky\": \"clear\"}"}])
        check(followed.choices[0].finish_reason is not None, "the tool's result sent back: the model continues")

        try:
            openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
            check(False, "a wrong API key is refused")
        except openai.AuthenticationError as error:
            check(error.status_code == 401, "a wrong API key gets 401")

        # Structured output: the reply is JSON of the schema (constrained decoding), in the schema's order.
        schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20},
                                                   "population_millions": {"type": "number"}},
                  "required": ["city", "population_millions"]}
        structured = client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": "Describe Paris as JSON."}], max_tokens=60, temperature=0,
            response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}})
        value = json.loads(structured.choices[0].message.content)
        check(list(value) == ["city", "population_millions"] and isinstance(value["city"], str)
              and isinstance(value["population_millions"], (int, float)),
              f"response_format json_schema: {structured.choices[0].message.content}")

        try:
            client.chat.completions.create(model="any", messages=[{"role": "user", "content": "hello " * 4200}], max_tokens=4)
            check(False, "a prompt longer than the context is refused")
        except openai.BadRequestError as error:
            check(error.status_code == 400 and "context" in str(error), "a prompt longer than the context gets 400")

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/v1/chat/completions", body="{\"messages\": [", headers={
            "Authorization": "Bearer sk-test", "Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read().decode()
        check(response.status == 400 and '"error"' in body, "malformed JSON gets 400 with an error object")

        # Two long streams (3,000 tokens, 15 s or more here) dropped after their first pieces: both
        # sequences must be free again at once.
        for _ in range(2):
            long = client.chat.completions.create(model="any", messages=[{"role": "user", "content": "Count to a thousand."}],
                                                  max_tokens=3000, stream=True)
            next(iter(long))
            long.close()
        started = time.time()
        client.chat.completions.create(model="any", messages=messages, max_tokens=4, temperature=0)
        client.chat.completions.create(model="any", messages=messages, max_tokens=4, temperature=0)
        check(time.time() - started < 5, f"after two clients disconnected mid-stream, requests run at once ({time.time() - started:.1f} s)")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("serve-openai-check: all checks passed")


if __name__ == "__main__":
    main()
