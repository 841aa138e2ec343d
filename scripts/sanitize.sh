#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer, then under UndefinedBehaviorSanitizer (the C
# kernels; Swift checks its own arithmetic and bounds in every build), each in its
# own build directory. Too slow for every CI run (a full instrumented build each); run it before a
# release or after touching a reader of outside bytes or a C kernel. Extra arguments go to swift test
# (e.g. --filter Formats).
# Usage: scripts/sanitize.sh [address|undefined ...] [-- swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh
sanitizers=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do sanitizers+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address undefined)
# Leaks are not checked: Foundation and the thread pool keep buffers until exit by design.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for sanitizer in "${sanitizers[@]}"; do
    echo "sanitize: $sanitizer" >&2
    # swiftc has no -sanitize=undefined on Linux: UBSan instruments the C targets (clang flags), and the
    # link pulls in its runtime. lld: gold fails on the instrumented link (an internal error in its
    # DWARF reader).
    if [ "$sanitizer" = undefined ]; then
        flags=(-Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined)
    else
        flags=(--sanitize="$sanitizer")
    fi
    swift test -c release "${flags[@]}" --build-path ".build-$sanitizer" -Xswiftc -use-ld=lld \
        -Xswiftc -target-cpu -Xswiftc "${COPPICE_TARGET_CPU:-haswell}" "$@"
done
