#!/usr/bin/env bash
# Reproduces docs/results/amgp/seeds-<name>/ (summary.md, summary.csv, seeds.csv, report.json,
# seeds.svg): dense, AMGP (docs/recipes/amgp-long-final-dense.json), prune-only and small dense of
# AMGP's FLOPs on ten seeds, paired by seed, each method's mean ΔNE with its 95% interval and the decision on "NE within
# 0.1% of dense" (README, AMGP). One `coppice dlrm --compare` per dataset, seeds in two processes:
#   teacher          the teacher stream (600k examples, 1 epoch), MLPs 13-128-64-16 / 128-64-1 (~4.5 min)
#   teacher-wide     the same stream, the reference's MLPs 13-512-256-64-16 / 512-256-1 (~6 min)
#   movielens        MovieLens-100K, 3 epochs, MLPs 2-256-128-16 / 256-128-1 (~1 min)
#   teacher-wide-paper-schedule  as teacher-wide with docs/recipes/amgp-paper-schedule.json, the decay
#                    inside its final 10% (~7 min)
#   teacher-one-cycle  as teacher with one sparse phase (docs/recipes/amgp-one-cycle.json: 10% dense, 45%
#                    at half width, 45% dense) (~4.5 min)
#   teacher-prune-30   as teacher pruning 30% instead of 50% (docs/recipes/amgp-prune-30.json) (~4.5 min)
# The learning rate decays quadratically to 0 over the last quarter of training, AMGP's final dense
# phase (the reference's --lr-decay-start-step): with a constant rate one run's final NE moved by up
# to 20% with the seed, which no ten seeds can average away.
# Usage: scripts/amgp-seeds.sh [teacher|teacher-wide|movielens|teacher-wide-paper-schedule|teacher-one-cycle|teacher-prune-30|all]
# (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
source scripts/lib/coppice.sh
which="${1:-all}"
case "$which" in teacher | teacher-wide | movielens | teacher-wide-paper-schedule | teacher-one-cycle | teacher-prune-30 | all) ;; *)
    echo "usage: scripts/amgp-seeds.sh [teacher|teacher-wide|movielens|teacher-wide-paper-schedule|teacher-one-cycle|teacher-prune-30|all]" >&2
    exit 2
    ;;
esac
if [ -n "$smoke" ]; then out=$(mktemp -d) rows=6000 seeds=0-1 ml_epochs=1; else out=docs/results/amgp rows=600000 seeds=0-9 ml_epochs=3; fi
# Decay over the last quarter: the training steps are 90% of the rows (the train split) over the batch of 128.
steps=$(((rows * 9 / 10 + 127) / 128)) ml_steps=$((704 * ml_epochs))
decay=(--lr-decay-start-step $((steps - steps / 4)) --lr-num-decay-steps $((steps / 4 + 1)))
ml_decay=(--lr-decay-start-step $((ml_steps - ml_steps / 4)) --lr-num-decay-steps $((ml_steps / 4 + 1)))
paper_decay=(--lr-decay-start-step $((steps * 9 / 10)) --lr-num-decay-steps $((steps - steps * 9 / 10 + 1)))
run() {  # name, recipe, then the options
    local name="$1" recipe="docs/recipes/$2.json"; shift 2
    echo "== $name: coppice dlrm $*" >&2
    "$coppice" dlrm "$@" --compare --seeds "$seeds" --jobs 2 --amgp-recipe "$recipe" --report-dir "$out/seeds-$name" 2>/dev/null > /dev/null
    { echo "\`coppice dlrm $* --compare --seeds $seeds --jobs 2 --amgp-recipe $recipe --report-dir $out/seeds-$name\`"; echo
        cat "$out/seeds-$name/summary.md"; } > "$out/seeds-$name/summary.md.tmp"
    mv "$out/seeds-$name/summary.md.tmp" "$out/seeds-$name/summary.md"
    cat "$out/seeds-$name/summary.md"
}
teacher=(--dataset synthetic-teacher --synthetic-rows "$rows")
wide=(--arch-mlp-bot 13-512-256-64-16 --arch-mlp-top 512-256-1)
if [ "$which" = teacher ] || [ "$which" = all ]; then
    run teacher amgp-long-final-dense "${teacher[@]}" "${decay[@]}" --arch-mlp-bot 13-128-64-16 --arch-mlp-top 128-64-1
fi
for variant in one-cycle prune-30; do
    if [ "$which" = "teacher-$variant" ] || [ "$which" = all ]; then
        run "teacher-$variant" "amgp-$variant" "${teacher[@]}" "${decay[@]}" --arch-mlp-bot 13-128-64-16 --arch-mlp-top 128-64-1
    fi
done
if [ "$which" = teacher-wide ] || [ "$which" = all ]; then
    run teacher-wide amgp-long-final-dense "${teacher[@]}" "${decay[@]}" "${wide[@]}"
fi
if [ "$which" = teacher-wide-paper-schedule ] || [ "$which" = all ]; then
    run teacher-wide-paper-schedule amgp-paper-schedule "${teacher[@]}" "${paper_decay[@]}" "${wide[@]}"
fi
if [ "$which" = movielens ] || [ "$which" = all ]; then
    # 90,000 training examples: 704 steps an epoch.
    run movielens amgp-long-final-dense --dataset movielens-100k --nepochs "$ml_epochs" --learning-rate 0.5 --arch-mlp-bot 2-256-128-16 --arch-mlp-top 256-128-1 \
        "${ml_decay[@]}"
fi
