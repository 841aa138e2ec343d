#!/usr/bin/env bash
# Prints the virtual environment (outside the repo) that holds llama-cpp-python, installing it first
# where it is missing: the PyPI package compiles llama.cpp from source (about 15 minutes here).
set -euo pipefail
venv=/opt/llamacpp-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
    CMAKE_ARGS="-DGGML_NATIVE=ON" "$venv/bin/pip" install -q llama-cpp-python >&2
fi
echo "$venv"
