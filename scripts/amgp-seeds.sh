#!/usr/bin/env bash
# Reproduces docs/results/amgp/seeds-*.md (about 12 minutes on 2 cores): the AMGP comparison of
# scripts/amgp-experiment.sh on five seeds, to show how far one seed's NE difference can be trusted:
#   - the paper-style schedule, each seed its own initialization and synthetic data;
#   - the long-final-dense schedule with the data fixed (--data-seed 0), only the initialization varies.
# Usage: scripts/amgp-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib/coppice.sh
if [ -n "$smoke" ]; then out=$(mktemp -d) rows=2000 epochs=1 seeds=0,1; else out=docs/results/amgp rows=200000 epochs=3 seeds=0,1,2,3,4; fi
mkdir -p "$out"
synthetic=(--dataset synthetic --synthetic-rows "$rows" --arch-mlp-bot 13-512-256-64-16 --arch-mlp-top 512-256-1 --nepochs "$epochs" --seeds "$seeds")
run() {  # name, then the options
    local name="$1"; shift
    { echo "\`coppice dlrm $* --compare\`"; echo; "$coppice" dlrm "$@" --compare 2>/dev/null; } > "$out/$name.md"
}
run seeds-paper-schedule "${synthetic[@]}" --amgp-recipe docs/recipes/amgp-paper-schedule.json
run seeds-long-final-dense-data-0 "${synthetic[@]}" --data-seed 0 --amgp-recipe docs/recipes/amgp-long-final-dense.json
cat "$out"/seeds-*.md
