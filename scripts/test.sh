#!/usr/bin/env bash
# README command 2: install what is missing (the test stack, QEMU and libvirtd for the
# real-guest tests, none of their services started), build with warnings as errors, and run
# every test with ctest. Then the same suite again built with clang, ASan and UBSan, plus every
# libFuzzer target for a bounded time (scripts/test-sanitize.sh, docs/fuzzing.md);
# KVMEM_SKIP_SANITIZE=1 skips that second build.
# Each stage ends with "N passed, N failed, N skipped" (scripts/ctest_summary.py); with CI=true
# or KVMEM_NO_SKIP=1 a skip outside tests/skip-allowlist.txt fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test --with-vm
# ccache for both builds; the base dir lets a fresh clone reuse the cache of an earlier one.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMEM_WERROR=ON -DKVMEM_BUILD_TESTS=ON "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)"
rc=0
ctest --test-dir build --output-on-failure --output-junit "$PWD/build/ctest-junit.xml" "$@" || rc=1
python3 scripts/ctest_summary.py build/ctest-junit.xml tests/skip-allowlist.txt || rc=1
((rc == 0)) || exit "$rc"
[[ "${KVMEM_SKIP_SANITIZE:-0}" == 1 ]] || scripts/test-sanitize.sh "$@"
