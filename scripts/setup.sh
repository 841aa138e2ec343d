#!/usr/bin/env bash
# Installs what Coppice needs on Debian/Ubuntu, idempotently: OpenBLAS (libopenblas-dev), zlib, pkg-config,
# oneDNN (libdnnl2) and BLIS (libblis4), which Coppice loads at run time where OpenBLAS does not know
# the CPU, and Open MPI (openmpi-bin: mpirun and libmpi, loaded only by runs that mpirun starts).
# Safe to run again: it only installs what is missing.
set -euo pipefail

need=()
pkg-config --exists openblas 2>/dev/null || need+=(libopenblas-dev)
pkg-config --exists zlib 2>/dev/null || need+=(zlib1g-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "$(uname)" = "Linux" ]; then
    /sbin/ldconfig -p 2>/dev/null | grep -q 'libblis\.so\.4 ' || need+=(libblis4)
    /sbin/ldconfig -p 2>/dev/null | grep -q 'libdnnl\.so\.2 ' || need+=(libdnnl2)
    command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
fi

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(uname)" != "Linux" ]; then
        echo "setup: missing ${need[*]}; on this platform Coppice uses Accelerate instead" >&2
        exit 0
    fi
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
