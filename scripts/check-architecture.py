#!/usr/bin/env python3
"""Checks docs/architecture.md's diagram against Package.swift: the arrows of the mermaid flowchart must
be exactly the dependencies that Package.swift declares for its non-test targets, and no arrow may point
to a higher floor (the diagram's subgraphs, top to bottom). Run from anywhere; exits 1 on a difference."""
import json
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
doc = open(os.path.join(root, "docs/architecture.md"), encoding="utf-8").read()
diagram = re.search(r"```mermaid\n(.*?)```", doc, re.S)
if not diagram:
    sys.exit("check-architecture: docs/architecture.md has no mermaid diagram")
edges, floors, floor = set(), {}, None
for line in diagram.group(1).splitlines():
    line = line.strip()
    if line.startswith("subgraph "):
        floor = 0 if floor is None else floor + 1
    elif m := re.match(r"(\w+) --> (\w+)$", line):
        edges.add((m.group(1), m.group(2)))
    elif re.match(r"\w+$", line) and floor is not None:
        floors[line] = floor

package = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                    capture_output=True, text=True).stdout)
declared = set()
for target in package["targets"]:
    if target["type"] == "test" or target["name"] == "CoppiceTestSupport":
        continue
    for dependency in target.get("dependencies", []):
        kind = next(iter(dependency))
        declared.add((target["name"], dependency[kind][0]))

problems = [f"Package.swift declares {a} -> {b}, the diagram does not" for a, b in sorted(declared - edges)]
problems += [f"the diagram draws {a} -> {b}, Package.swift does not declare it" for a, b in sorted(edges - declared)]
for a, b in sorted(edges):
    if a in floors and b in floors and floors[b] < floors[a]:
        problems.append(f"{a} -> {b} points up a floor")
if problems:
    print("check-architecture: docs/architecture.md is out of date:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"check-architecture: {len(edges)} arrows match Package.swift")
