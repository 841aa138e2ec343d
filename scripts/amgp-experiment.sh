#!/usr/bin/env bash
# Reproduces docs/results/amgp/ (about 12 minutes on 2 cores; every comparison runs 3 rounds, median time): alternate model growth and pruning next to
# dense, prune-only and a small dense model of the same average FLOPs (coppice dlrm --compare), on
#   - the synthetic Criteo-schema stream (200,000 examples, the reference's MLPs 13-512-256-64-16 / 512-256-1):
#     the paper-style schedule of docs/recipes/amgp-paper-schedule.json (and its variant pruning 60% of the
#     neurons, amgp-paper-schedule-60.json) over 3 epochs, and equal phases
#     0,0.5,0,0.5,0 over the reference's single epoch;
#   - MovieLens-100K (3 epochs, lr 0.5, MLPs 2-64-16 / 64-1, and wider 2-256-128-16 / 256-128-1) with the
#     paper-style schedule.
# Usage: scripts/amgp-experiment.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
if [ -n "$smoke" ]; then out=$(mktemp -d) rows=2000 repeats=1 epochs=1; else out=docs/results/amgp rows=200000 repeats=3 epochs=3; fi
mkdir -p "$out"
synthetic=(--dataset synthetic --synthetic-rows "$rows" --arch-mlp-bot 13-512-256-64-16 --arch-mlp-top 512-256-1)
run() {  # name, then the options
    local name="$1"; shift
    { echo "\`coppice dlrm $* --compare\`"; echo; "$coppice" dlrm "$@" --compare --plot "$out/$name.svg" 2>/dev/null; } > "$out/$name.md"
}
run synthetic-paper-schedule-3-epochs "${synthetic[@]}" --repeats "$repeats" --nepochs "$epochs" --amgp-recipe docs/recipes/amgp-paper-schedule.json
run synthetic-paper-schedule-60-3-epochs "${synthetic[@]}" --repeats "$repeats" --nepochs "$epochs" --amgp-recipe docs/recipes/amgp-paper-schedule-60.json
run synthetic-equal-phases-1-epoch "${synthetic[@]}" --repeats "$repeats" --amgp-phases 0,0.5,0,0.5,0
run movielens-paper-schedule --dataset movielens-100k --repeats "$repeats" --nepochs "$epochs" --learning-rate 0.5 --arch-mlp-bot 2-64-16 --arch-mlp-top 64-1 \
    --amgp-recipe docs/recipes/amgp-paper-schedule.json
run movielens-wide-paper-schedule --dataset movielens-100k --repeats "$repeats" --nepochs "$epochs" --learning-rate 0.5 --arch-mlp-bot 2-256-128-16 \
    --arch-mlp-top 256-128-1 --amgp-recipe docs/recipes/amgp-paper-schedule.json
cat "$out"/*.md
