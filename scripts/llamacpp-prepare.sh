#!/usr/bin/env bash
# What the scripts that compare with llama.cpp need first: the repo's set-up and data, a release
# build of `coppice`, and llama-cpp-python (with its server's packages) in a virtual environment
# outside the repo (the PyPI package compiles llama.cpp from source, about 15 minutes here). Prints the environment's path;
# everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
scripts/fetch-data.sh >&2
source scripts/lib/coppice.sh
venv=/opt/llamacpp-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
    CMAKE_ARGS="-DGGML_NATIVE=ON" "$venv/bin/pip" install -q llama-cpp-python >&2
fi
# llama.cpp's own server (`python -m llama_cpp.server`), which benchmarks/serve_load.py compares with.
"$venv/bin/python" -c "import fastapi, uvicorn, sse_starlette, starlette_context, pydantic_settings" 2>/dev/null ||
    "$venv/bin/pip" install -q fastapi uvicorn sse-starlette starlette-context pydantic-settings >&2
echo "$venv"
