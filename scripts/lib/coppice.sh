# Sourced by the scripts, from the repository root. Sets `coppice`, the binary they run: $COPPICE if
# set (a ready binary; nothing is built), otherwise a plain release build (with -target-cpu when
# COPPICE_TARGET_CPU is set). Sets `smoke` from COPPICE_SMOKE: the quick mode scripts/check-scripts.py
# runs in CI, the same commands on tiny workloads with results in a temporary directory.
if [ -n "${COPPICE:-}" ]; then
    coppice="$COPPICE"
else
    swift build -c release ${COPPICE_TARGET_CPU:+-Xswiftc -target-cpu -Xswiftc "$COPPICE_TARGET_CPU"} --product coppice >&2
    coppice=.build/release/coppice
fi
smoke="${COPPICE_SMOKE:-}"
