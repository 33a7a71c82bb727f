#!/usr/bin/env bash
# The whole ctest suite again, built in build-asan with clang, AddressSanitizer (LeakSanitizer
# on) and UndefinedBehaviorSanitizer, none of which recovers: unit tests, end-to-end scripts
# (their $KVMEM_EXPORTER and $KVMEM_CONTROLLER are the sanitized binaries), then every libFuzzer
# target for KVMEM_FUZZ_SECONDS seconds (default 30), two at a time. Any report fails the run:
# a test's own exit status catches most; a report from a process whose exit nobody checks lands
# in build-asan/sanitizer-logs/, which must stay empty. scripts/test.sh runs this after the
# normal suite; docs/fuzzing.md explains how to read and fix a finding. Skips are counted and,
# with CI=true or KVMEM_NO_SKIP=1, fail the run as in scripts/test.sh.
# Usage: scripts/test-sanitize.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMEM_WERROR=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DKVMEM_SANITIZE=ON -DKVMEM_FUZZ=ON -DKVMEM_FUZZ_SECONDS="${KVMEM_FUZZ_SECONDS:-30}" "${launcher[@]}" >/dev/null
start=$SECONDS
cmake --build "$build" -j"$(nproc)"
echo "test-sanitize: build took $((SECONDS - start)) s"

logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs"  # reports from daemons that dropped to nobody (privileges_exporter.sh) too
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:print_stacktrace=1:check_initialization_order=1:log_path=$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0"

rc=0
start=$SECONDS
ctest --test-dir "$build" --output-on-failure -LE fuzz --output-junit "$PWD/$build/ctest-junit.xml" "$@" || rc=1
python3 scripts/ctest_summary.py "$build/ctest-junit.xml" tests/skip-allowlist.txt || rc=1
echo "test-sanitize: suite took $((SECONDS - start)) s"
start=$SECONDS
ctest --test-dir "$build" --output-on-failure -L fuzz -j"$(nproc)" "$@" || rc=1
echo "test-sanitize: fuzzing took $((SECONDS - start)) s"
shopt -s nullglob
reports=("$logs"/*)
if ((${#reports[@]} > 0)); then
  for f in "${reports[@]}"; do echo "=== sanitizer report $f"; cat "$f"; done
  echo "test-sanitize: ${#reports[@]} sanitizer report(s) above" >&2
  rc=1
fi
exit $rc
