#!/usr/bin/env python3
"""Checks the shape rules of docs/architecture.md on the project's own sources: no source
file over 400 lines and no function over 80 lines (tests, fuzz targets and generated files
excepted). Prints every offender with its place and exits 1 when there is one.

A function starts at a line at column 0 (its signature, which may wrap) whose signature ends
in '{', and ends at the next '}' at column 0: clang-format lays definitions out that way.
Namespaces, classes and initialised variables are not functions."""
import pathlib
import re
import sys

MAX_FILE, MAX_FUNCTION = 400, 80
ROOTS = ["common", "host", "exporter", "controller", "bench"]
NOT_A_FUNCTION = re.compile(r"^(namespace|extern|struct|class|enum|union)\b|^(static )?(const|constexpr|inline) .*=")


def functions(lines):
    start = signature = None
    for n, line in enumerate(lines, 1):
        if start is not None:
            if line.startswith("}"):
                yield start, n
                start = None
            continue
        if line[:1].isalpha() or line[:1] == "~":
            # A brace before any parenthesis is a variable's initialiser, not a body.
            braced = "{" in line and "(" not in line.split("{")[0] and line.rstrip().endswith("{")
            signature = None if NOT_A_FUNCTION.match(line) or braced else n
        if signature is not None:
            if line.rstrip().endswith("{"):
                start, signature = signature, None
            elif line.rstrip().endswith(";") or n - signature > 6:
                signature = None


def main(root):
    problems = []
    for top in ROOTS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".cpp", ".h"):
                continue
            rel = path.relative_to(root)
            lines = path.read_text().splitlines()
            if len(lines) > MAX_FILE:
                problems.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE})")
            for start, end in functions(lines):
                if end - start + 1 > MAX_FUNCTION:
                    problems.append(f"{rel}:{start}: function of {end - start + 1} lines (at most {MAX_FUNCTION}): "
                                    f"{lines[start - 1].strip()}")
    for p in problems:
        print(p)
    print(f"code shape: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)))
