#!/usr/bin/env python3
"""Runs every script in scripts/ and benchmarks/ in its quick mode, so that one a change broke fails
CI instead of a reader. Each runs for real on a tiny workload: COPPICE names the binary to use (the
scripts then build nothing) and COPPICE_SMOKE=1 makes the experiment scripts shrink their data and
write their results to a temporary directory instead of docs/results. Scripts that need a peer
(PyTorch, llama-cpp-python) are skipped with the reason when its virtual environment is absent; a
file with no entry here fails the check, so a new script must say how it is exercised.

Usage: scripts/check-scripts.py [--binary PATH] [NAME ...]   (default binary .build/release/coppice;
NAMEs pick entries by file name, e.g. demo.sh pytorch_conv.py)"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH = os.environ.get("COPPICE_TORCH_PYTHON", "/opt/torch-venv/bin/python")
LLAMA = os.environ.get("COPPICE_LLAMA_PYTHON", "/opt/llamacpp-venv/bin/python")
OPENAI = os.environ.get("COPPICE_OPENAI_PYTHON", "/opt/openai-venv/bin/python")
NEEDS = {"torch": (TORCH, "PyTorch (python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch numpy safetensors tokenizers)"),
         "llama": (LLAMA, "llama-cpp-python (scripts/llamacpp-prepare.sh installs it into /opt/llamacpp-venv)"),
         "openai": (OPENAI, "the openai client (python3 -m venv /opt/openai-venv && /opt/openai-venv/bin/pip install openai)")}

# file -> (shell command run from the repository root with $COPPICE, $TMP, $TORCH and $LLAMA set, peer it needs)
# or a string saying why the file is not run here and what exercises it instead.
CHECKS = {
    "scripts/setup.sh": "run first by scripts/test.sh",
    "scripts/fetch-data.sh": "run first by scripts/test.sh",
    "scripts/test.sh": "the command that runs this check",
    "scripts/check-architecture.py": "run by scripts/test.sh",
    "scripts/check-scripts.py": "this check, run by scripts/test.sh",
    "scripts/extract_austen.py": "run by scripts/fetch-data.sh",
    "scripts/sanitize.sh": "two instrumented builds of the whole suite (tens of minutes on 2 cores): run by hand before a release",
    "scripts/check-docs.py": ("python3 scripts/check-docs.py --binary \"$COPPICE\"", None),
    "scripts/fuzz_report.py": ("python3 scripts/fuzz_report.py docs/results/fuzzing-runs.csv \"$TMP/fuzzing.md\"", None),
    "scripts/fuzz.sh": ("scripts/fuzz.sh 2 idx chat", None),
    "scripts/bench.sh": ("scripts/bench.sh --budget 0.01 --format csv", None),
    "scripts/dispatch-bench.sh": ("scripts/dispatch-bench.sh", None),
    "scripts/demo.sh": ("scripts/demo.sh --output \"$TMP/demo\"", None),
    "scripts/spatial-winograd-experiment.sh": ("scripts/spatial-winograd-experiment.sh", None),
    "scripts/amgp-experiment.sh": ("scripts/amgp-experiment.sh", None),
    "scripts/amgp-seeds.sh": ("scripts/amgp-seeds.sh", None),
    "scripts/online-experiment.sh": ("scripts/online-experiment.sh", None),
    "scripts/distributed-scaling.sh": ("scripts/distributed-scaling.sh \"$TMP/scaling\"", None),
    "scripts/llamacpp-prepare.sh": ("scripts/llamacpp-prepare.sh", "llama"),
    "scripts/llamacpp-check.sh": ("scripts/llamacpp-check.sh \"$TMP\"", "llama"),
    "scripts/llm-bench.sh": ("scripts/llm-bench.sh", "llama"),
    "scripts/llm-sparse-bench.sh": ("scripts/llm-sparse-bench.sh", "llama"),
    "benchmarks/serve_load.py": (
        "python3 benchmarks/serve_load.py --binary \"$COPPICE\" --model .data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --clients 1,2 "
        "--requests 1 --tokens 8 --output \"$TMP/serve-load.md\"", None),
    "benchmarks/serve_soak.py": (
        "python3 benchmarks/serve_soak.py --binary \"$COPPICE\" --minutes 0.1 --clients 4 --output \"$TMP/serve-soak.md\"", None),
    "benchmarks/serve_constrained.py": (
        "python3 benchmarks/serve_constrained.py --binary \"$COPPICE\" --model .data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --tokens 8 "
        "--rounds 1 --output \"$TMP/serve-constrained.md\"", None),
    "benchmarks/serve_startup.py": (
        "python3 benchmarks/serve_startup.py --binary \"$COPPICE\" --model .data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --repeats 1 "
        "--output \"$TMP/serve-startup.md\"", None),
    "scripts/serve-openai-check.py": ("\"$OPENAI\" scripts/serve-openai-check.py --binary \"$COPPICE\"", "openai"),
    "scripts/llm-prune-experiment.sh": ("scripts/llm-prune-experiment.sh \"$TMP/prune\"", None),
    "benchmarks/coppice_build.py": "imported by the benchmarks run here",
    "benchmarks/timing.py": "imported by the PyTorch benchmarks run here",
    "benchmarks/gmp_sweep.py": ("python3 benchmarks/gmp_sweep.py --dataset mnist --models mlp --sparsities 0.5 --epochs 1 --train-limit 512", None),
    "benchmarks/pytorch_compare.py": ("\"$TORCH\" benchmarks/pytorch_compare.py --threads 2 --budget 0.01 --rounds 2", "torch"),
    "benchmarks/pytorch_conv.py": ("\"$TORCH\" benchmarks/pytorch_conv.py --threads 2 --budget 0.01 --sparsities 0.9 --rounds 2", "torch"),
    "benchmarks/pytorch_dlrm.py": ("\"$TORCH\" benchmarks/pytorch_dlrm.py --threads 2 --budget 0.05 --rounds 2", "torch"),
    "benchmarks/pytorch_llm_prune.py": (
        "\"$TORCH\" benchmarks/pytorch_llm_prune.py --methods magnitude wanda --sparsities 2:4 --calibration-sequences 2 "
        "--sequence-length 64 --eval-tokens 256", "torch"),
    "benchmarks/pytorch_lenet.py": ("\"$TORCH\" benchmarks/pytorch_lenet.py --dataset mnist --epochs 1 --threads 2", "torch"),
    "benchmarks/pytorch_model.py": (
        "COPPICE_SMOKE=1 scripts/demo.sh --output \"$TMP/run\" >/dev/null 2>&1 && "
        "\"$TORCH\" benchmarks/pytorch_model.py --run \"$TMP/run\" --threads 2 --budget 0.05", "torch"),
    "benchmarks/llamacpp_bench.py": (
        "\"$COPPICE\" bench llm-model --preset llama-57m --type q4_0 --output \"$TMP/m.gguf\" >/dev/null && "
        "\"$LLAMA\" benchmarks/llamacpp_bench.py --coppice \"$COPPICE\" --rounds 1 -p 16 -n 8 \"$TMP/m.gguf\"", "llama"),
    "benchmarks/llamacpp_common.py": "imported by the llama.cpp benchmarks run here",
    "benchmarks/llamacpp_sparse.py": (
        "\"$COPPICE\" bench llm-model --preset llama-57m --type f16 --output \"$TMP/d.gguf\" >/dev/null && "
        "\"$COPPICE\" bench llm-model --preset llama-57m --type f16 --sparsity 2:4 --output \"$TMP/s.gguf\" >/dev/null && "
        "\"$LLAMA\" benchmarks/llamacpp_sparse.py --coppice \"$COPPICE\" --rounds 1 -p 16 -n 8 \"$TMP/d.gguf=$TMP/s.gguf\"", "llama"),
    "benchmarks/llamacpp_ab.py": (
        "\"$COPPICE\" bench llm-model --preset llama-57m --type q4_0 --output \"$TMP/m.gguf\" >/dev/null && "
        "\"$LLAMA\" benchmarks/llamacpp_ab.py \"$TMP/m.gguf\" \"$COPPICE\" \"$COPPICE:COPPICE_NUM_THREADS=1\" -n 4 --rounds 1", "llama"),
}


def main():
    parser = argparse.ArgumentParser(description="Run every script and benchmark in its quick mode.")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    files = sorted(os.path.relpath(f, ROOT) for pattern in ("scripts/*.sh", "scripts/*.py", "benchmarks/*.py")
                   for f in glob.glob(os.path.join(ROOT, pattern)))
    failures = [f"{f}: no entry in scripts/check-scripts.py says how it is exercised" for f in files if f not in CHECKS]
    failures += [f"{f}: listed in scripts/check-scripts.py but missing" for f in CHECKS if f not in files]
    passed, skipped = 0, []
    for name in files:
        entry = CHECKS.get(name)
        if entry is None or (args.names and os.path.basename(name) not in args.names):
            continue
        if isinstance(entry, str):
            skipped.append(f"{name}: {entry}")
            continue
        command, need = entry
        if need and not os.access(NEEDS[need][0], os.X_OK):
            skipped.append(f"{name}: needs {NEEDS[need][1]}")
            continue
        temporary = tempfile.mkdtemp(prefix="coppice-check-")
        environment = dict(os.environ, COPPICE=os.path.abspath(args.binary), COPPICE_SMOKE="1", TMP=temporary, TMPDIR=temporary,
                           TORCH=TORCH, LLAMA=LLAMA, OPENAI=OPENAI)
        started = time.monotonic()
        run = subprocess.run(["bash", "-c", command], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900)
        shutil.rmtree(temporary, ignore_errors=True)
        seconds = time.monotonic() - started
        if run.returncode == 0:
            passed += 1
            print(f"  ok    {name} ({seconds:.0f} s)", flush=True)
        else:
            tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
            failures.append(f"{name}: `{command}` exited {run.returncode} after {seconds:.0f} s:\n{tail}")
            print(f"  FAIL  {name} ({seconds:.0f} s)", flush=True)
    for line in skipped:
        print(f"  skip  {line}")
    print(f"check-scripts: {passed} ran in their quick mode, {len(failures)} failed, {len(skipped)} skipped")
    for line in failures:
        print(line, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
