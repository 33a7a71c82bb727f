#!/usr/bin/env bash
# Checks that every C++ file follows .clang-format; with --fix, rewrites them instead.
# Usage: scripts/check_format.sh [--fix] [source root]
set -euo pipefail
fix=0
if [[ "${1:-}" == --fix ]]; then fix=1; shift; fi
cd "${1:-$(dirname "$0")/..}"
if ! command -v clang-format >/dev/null; then
  echo "check_format: clang-format is missing; install it with scripts/setup.sh --test" >&2
  exit 1
fi
dirs=(bench common controller exporter fuzz host tests)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- "${dirs[@]/%//*.cpp}" "${dirs[@]/%//*.h}")
else
  mapfile -t files < <(find "${dirs[@]}" \( -name '*.cpp' -o -name '*.h' \) | sort)
fi
if ((fix)); then
  clang-format -i "${files[@]}"
  echo "check_format: formatted ${#files[@]} files"
  exit 0
fi
if ! out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
  head -40 <<<"$out" >&2
  echo "check_format: the files above differ from .clang-format; run scripts/check_format.sh --fix" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files follow .clang-format"
