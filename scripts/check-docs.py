#!/usr/bin/env python3
"""Checks that every `coppice ...` command written in the README and docs still parses: each command in
a fenced code block or an inline code span is run with COPPICE_CHECK_ARGUMENTS=1, which makes the
binary parse and validate its arguments exactly as a user's run would and then exit without running
(so a renamed option, a removed subcommand or a bad value fails here, in seconds). Commands with
elided parts ("…") or shell substitutions the docs leave to the reader are listed as skipped.

Usage: scripts/check-docs.py [--binary PATH] [FILE.md ...]
  default binary .build/release/coppice; default files README.md, docs/**/*.md, Sources/*/README.md.
Exits 1 and names file:line and the parser's message for every command that does not parse."""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = re.compile(r"^(?:\./)?(?:\.build/(?:release|debug)/)?coppice$")
SEPARATORS = {"&&", "||", ";", "|", ">", ">>", "2>", "<", "/"}
SHELL_FENCES = {"", "sh", "bash", "shell", "console"}


def commands_in(text):
    """(line number, argv after the program, whether it is a bare name in prose) of each coppice command
    in shell code blocks and inline code spans. A span naming a command without options ("`coppice
    eval`") refers to it rather than runs it: only its name is checked."""
    found = []
    lines = text.split("\n")
    in_fence, shell, pending, start = False, False, "", 0
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_fence, pending = not in_fence, ""
            shell = in_fence and line.strip()[3:].strip() in SHELL_FENCES
            continue
        if in_fence and not shell:
            continue
        if in_fence:
            stripped = line.strip()
            if stripped.startswith("$ "):
                stripped = stripped[2:]
            if not pending:
                start = number
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            found += [(start, argv, False) for argv in split_commands(pending + stripped)]
            pending = ""
        else:
            for span in re.findall(r"`([^`]+)`", line):
                found += [(number, argv, not any(a.startswith("-") for a in argv)) for argv in split_commands(span)]
    return found


def split_commands(text):
    """The coppice invocations in one shell line (after &&, ;, | or at its start)."""
    text = text.split(" #")[0]
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError:
        return []
    result, current = [], None
    for token in tokens:
        if token in SEPARATORS:
            if current is not None:
                result.append(current)
            current = None
        elif current is None:
            if PROGRAM.match(token):
                current = []
        else:
            # "--type f32|f16|bf16" lists the choices: the first stands for them.
            current.append(token.split("|")[0] if "|" in token.strip("|") else token)
    if current is not None:
        result.append(current)
    return result


def elided(argv):
    return any("…" in a or a == "..." or "$" in a or a.startswith("<") for a in argv)


def main():
    parser = argparse.ArgumentParser(description="Check that documented coppice commands parse.")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/coppice"))
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    files = args.files or (
        [os.path.join(ROOT, "README.md")]
        + sorted(glob.glob(os.path.join(ROOT, "docs/**/*.md"), recursive=True))
        + sorted(glob.glob(os.path.join(ROOT, "Sources/*/README.md")))
    )
    environment = dict(os.environ, COPPICE_CHECK_ARGUMENTS="1")
    checked, skipped, failures, seen = 0, [], [], set()
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for number, argv, name_only in commands_in(text):
            where = f"{os.path.relpath(path, ROOT)}:{number}"
            if elided(argv):
                skipped.append(f"{where}: coppice {' '.join(argv)}")
                continue
            if name_only:
                argv = argv + ["--help"]
            if tuple(argv) in seen:
                continue
            seen.add(tuple(argv))
            run = subprocess.run([args.binary] + argv, env=environment, capture_output=True, text=True, timeout=60)
            checked += 1
            if run.returncode != 0:
                message = (run.stderr or run.stdout).strip().splitlines()
                failures.append(f"{where}: coppice {' '.join(argv)}\n    {message[0] if message else f'exit {run.returncode}'}")
    print(f"check-docs: {checked - len(failures)} documented commands parse, {len(failures)} do not, {len(skipped)} skipped (elided parts)")
    for line in failures:
        print("  " + line, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
