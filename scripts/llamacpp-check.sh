#!/usr/bin/env bash
# A Llama trained by Coppice runs in llama.cpp: trains a tiny model for a few seconds on a repeated
# sentence, writes it as GGUF (F16, BF16 and Q8_0) with `coppice convert-llama`, and checks that llama.cpp
# (llama-cpp-python, in a venv outside the repo) and Coppice generate the same greedy text from it.
# Usage: scripts/llamacpp-check.sh [work directory, default a fresh temporary one]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/llamacpp-prepare.sh)
source scripts/lib/coppice.sh
work="${1:-$(mktemp -d)}"
tokenizer=.data/llama3/tokenizer.model
printf 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. %.0s' {1..40} > "$work/text.txt"
"$coppice" train llama --text "$work/text.txt" --held-out "$work/text.txt" --tokenizer "$tokenizer" --dim 64 --layers 2 \
    --heads 4 --kv-heads 2 --sequence-length 32 --batch-size 4 --steps 60 --lr 0.01 --output "$work/model" >&2
status=0
for type in f16 bf16 q8_0; do
    "$coppice" convert-llama "$work/model" "$work/model-$type.gguf" --type "$type" --tokenizer "$tokenizer"
    ours=$("$coppice" generate --model "$work/model-$type.gguf" --tokenizer "$tokenizer" --prompt "It is a truth" \
        --max-tokens 12 --temperature 0 2>/dev/null)
    theirs=$("$venv/bin/python" -c "
import sys, llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=32, n_threads=2, verbose=False)
print(llm('It is a truth', max_tokens=12, temperature=0)['choices'][0]['text'], end='')" "$work/model-$type.gguf")
    echo "$type Coppice:   $ours"
    echo "$type llama.cpp: $theirs"
    [ "$ours" = "$theirs" ] || { echo "$type: the two differ" >&2; status=1; }
done
exit $status
