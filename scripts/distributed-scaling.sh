#!/usr/bin/env bash
# Scaling on this machine: one process against 2 MPI ranks, one thread each (COPPICE_NUM_THREADS=1),
# on the same global batches: the LeNet-5 step (Fashion-MNIST, batch 128) and the Llama step (the
# llama-57m preset's blocks, dim 512, 8 layers, FFN 1536, with the Llama 3 vocabulary of `train
# llama`; 8 windows of 128 tokens), data-parallel; the DLRM step (the synthetic Criteo-schema stream,
# 26 tables of 10,000 rows, batch 2,048), hybrid-parallel. Per step: time, speed-up and efficiency
# (speed-up / ranks), and the bytes each rank sends: the gradients' ring all-reduce (2(n-1)/n of
# them), plus for DLRM the busiest rank's all-to-all (`coppice plan-tables`). Writes
# docs/results/distributed-scaling.md (about 10 minutes on 2 cores).
# Usage: scripts/distributed-scaling.sh [work directory, default a fresh temporary one]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
work="${1:-$(mktemp -d)}" results=docs/results/distributed-scaling.md
images=8192 llama_steps=12 llama_dim=512 llama_layers=8 llama_length=128 dlrm_rows=400000
if [ -n "$smoke" ]; then
    # The quick mode: a few steps of each on small shapes, results kept out of the repo.
    images=512 llama_steps=3 llama_dim=32 llama_layers=1 llama_length=16 dlrm_rows=20000 results="$work/distributed-scaling.md"
fi
mkdir -p "$work"
mpi=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)

# LeNet-5: seconds per step from the epoch time `train` reports (the epoch's steps: images / 128).
lenet() {  # launcher... ; prints seconds per step
    "$@" "$coppice" train --model lenet5 --dataset fashion-mnist --train-limit "$images" --test-limit 1000 --epochs 1 \
        --batch-size 128 --output "$work/lenet-$#" --quiet --format csv |
        awk -F, -v steps=$(((images + 127) / 128)) '$3 == "epoch time" { print $5 / steps }'
}
# Llama: seconds per step from result.json (training time only, not the perplexity before and after).
llama() {
    local output="$work/llama-$#"
    "$@" "$coppice" train llama --text .data/austen/emma.txt --held-out .data/austen/persuasion.txt --dim "$llama_dim" \
        --layers "$llama_layers" --heads 8 --kv-heads 2 --ffn 1536 --sequence-length "$llama_length" --batch-size 8 \
        --steps "$llama_steps" --minutes 30 --output "$output" >/dev/null 2>&1
    python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print(r['seconds'] / r['steps'])" "$output/result.json"
}
# DLRM: seconds per step from its train time and the steps it reports.
dlrm() {
    "$@" "$coppice" dlrm --dataset synthetic --synthetic-rows "$dlrm_rows" --mini-batch-size 2048 --format csv 2>"$work/dlrm-$#.log" |
        awk -F, '$3 == "train time" { print $5 }' >"$work/dlrm-$#.seconds"
    python3 -c "import re, sys; steps = int(re.findall(r'(\d+) steps', open(sys.argv[1]).read())[-1]); print(float(open(sys.argv[2]).read()) / steps)" \
        "$work/dlrm-$#.log" "$work/dlrm-$#.seconds"
}
# Trainable parameters of the runs' saved models (the gradients the all-reduce carries).
parameters() {
    python3 - "$1" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
print(sum(v["data_offsets"][1] - v["data_offsets"][0] for k, v in header.items() if k != "__metadata__") // 4)
PY
}

export COPPICE_NUM_THREADS=1
lenet_one=$(lenet env) lenet_two=$(lenet "${mpi[@]}")
llama_one=$(llama env) llama_two=$(llama "${mpi[@]}")
lenet_parameters=$(parameters "$work/lenet-1/model.safetensors")
llama_parameters=$(parameters "$work/llama-1/model.safetensors")
dlrm_one=$(dlrm env) dlrm_two=$(dlrm "${mpi[@]}")
# The gradient all-reduce alone, timed by mpi-check at the model's size (median of 3): what overlapping
# it with the backward pass could hide at most.
allreduce() { "${mpi[@]}" "$coppice" mpi-check --sizes "$1" --rounds 3 --format csv | awk -F, -v c="all-reduce $1 floats" '$2 == c && $3 == "time" { print $5 / 1e3 }'; }
lenet_reduce=$(allreduce "$lenet_parameters") llama_reduce=$(allreduce "$llama_parameters")
# The DLRM's bytes per rank and step on 2 ranks, from the plan and the traffic model.
plan() { "$coppice" plan-tables --tables "$(python3 -c 'print(",".join(["10000"] * 26))')" --arch-mlp-bot 13-64-16 --arch-mlp-top 64-1 \
    --ranks 2 --batch-per-rank 1024 --format csv | awk -F, -v m="$1" '$0 ~ m { print $NF * 1e6 }'; }
dlrm_bytes=$(python3 -c "print($(plan 'all-to-all sent') + $(plan 'MLP all-reduce'))")
field() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -1; }
{
    echo "# Data-parallel scaling: 1 process and 2 MPI ranks"
    echo
    echo "Written by \`scripts/distributed-scaling.sh\` on $(field 'model name') (family $(field 'cpu family') model $(field 'model')),"
    echo "$(nproc) cores, one thread per process (\`COPPICE_NUM_THREADS=1\`), Open MPI $(mpirun --version | head -1 | awk '{print $NF}')"
    echo "over shared memory. Both runs train on the same global batches (each rank a shard of every batch);"
    echo "the 2-rank time per step includes the gradient all-reduce."
    echo
    echo "| step | parameters | 1 process, ms/step | 2 ranks, ms/step | speed-up | efficiency | sent per rank per step | gradient all-reduce alone, ms (share of the 2-rank step) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    python3 - "$lenet_one" "$lenet_two" "$lenet_parameters" "$llama_one" "$llama_two" "$llama_parameters" \
        "$images" "$llama_dim" "$llama_layers" "$llama_length" "$dlrm_one" "$dlrm_two" "$dlrm_bytes" "$dlrm_rows" \
        "$lenet_reduce" "$llama_reduce" <<'PY'
import sys
a = sys.argv[1:]
# Ring all-reduce: each rank sends (and receives) 2(n-1)/n of the gradient bytes, n = 2.
for name, one, two, params, sent, reduce in (
        (f"LeNet-5, Fashion-MNIST, batch 128 ({a[6]} images), data-parallel", a[0], a[1], a[2], 4 * int(a[2]), a[14]),
        (f"Llama dim {a[7]}, {a[8]} layers, FFN 1536, Llama 3 vocabulary, 8 x {a[9]} tokens, data-parallel", a[3], a[4], a[5],
         4 * int(a[5]), a[15]),
        (f"DLRM, synthetic Criteo schema ({a[13]} rows), batch 2048, hybrid-parallel", a[10], a[11], "", float(a[12]), "")):
    one, two = float(one), float(two)
    speedup = one / two
    count = f"{int(params):,}" if params else "—"
    share = f"{1e3 * float(reduce):.2f} ({100 * float(reduce) / two:.1f}%)" if reduce else "—"
    print(f"| {name} | {count} | {1e3 * one:.1f} | {1e3 * two:.1f} | {speedup:.2f} | {100 * speedup / 2:.0f}% | {float(sent) / 1e6:.2f} MB | {share} |")
PY
    echo
    echo "DLRM's bytes: the busiest rank's all-to-all (its tables' pooled rows for the other rank's examples,"
    echo "forward and backward) plus the MLPs' all-reduce, from \`coppice plan-tables\` on the same shapes. For 8 to"
    echo "64 hosts see [docs/distributed.md](../distributed.md)."
    echo
    echo "The last column is \`mpirun -np 2 coppice mpi-check --sizes 406270\` at the model's gradient size (here LeNet-5's): the most"
    echo "that overlapping the all-reduce with the backward pass could hide per step, had each rank a core to"
    echo "spare for it (here it has none: one thread per rank on 2 cores, and Open MPI progresses a"
    echo "non-blocking collective only inside MPI calls)."
} | tee "$results"
