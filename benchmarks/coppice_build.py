"""Builds the `coppice` product for the comparison scripts: a plain `swift build -c release` (the
build users get; kernels pick the CPU's instructions at run time), or for the CPU named by
COPPICE_TARGET_CPU (e.g. native) to measure what a -target-cpu build still adds; COPPICE names a ready
binary instead (nothing is built)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build", "release", "coppice")


def build_coppice(stdout=sys.stderr):
    if os.environ.get("COPPICE"):
        return os.environ["COPPICE"]
    target = os.environ.get("COPPICE_TARGET_CPU")
    flags = ["-Xswiftc", "-target-cpu", "-Xswiftc", target] if target else []
    subprocess.run(["swift", "build", "-c", "release", *flags, "--product", "coppice"], cwd=ROOT, check=True, stdout=stdout)
    return BINARY
