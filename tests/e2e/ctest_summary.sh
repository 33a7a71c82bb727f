#!/usr/bin/env bash
# scripts/ctest_summary.py, the gate that keeps skips from passing in CI: on a report with one
# pass, one failure and two skips it prints the exact summary line, lets the skips through
# locally, fails on them under CI=true and KVMEM_NO_SKIP=1, spares allowlisted ones, rejects
# an allowlist entry without its reason, and ctest's own report of a 77 exit is read alike.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?}
SUM="$SRC/scripts/ctest_summary.py"
J=$E2E_TMP/junit.xml
cat >"$J" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="t" tests="4" failures="1" skipped="2">
  <testcase name="ok" status="run"><system-out></system-out></testcase>
  <testcase name="sk77" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/><system-out>skip: no widget here
</system-out></testcase>
  <testcase name="Suite.Gtest" status="notrun"><skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/><system-out>[  SKIPPED ] Suite.Gtest</system-out></testcase>
</testsuite>
XML
# run "VAR=value ..." ARGS...: the script's exit code, its output in $E2E_TMP/out.
run() {
  local vars=$1 rc=0; shift
  # shellcheck disable=SC2086  # $vars is a list of assignments, or nothing
  env -u CI -u KVMEM_NO_SKIP $vars python3 "$SUM" "$@" >"$E2E_TMP/out" 2>&1 || rc=$?
  echo "$rc"
}

assert_eq "$(run "" "$J")" 0 "local run with skips, no failure"
grep -qx "1 passed, 0 failed, 2 skipped" "$E2E_TMP/out" || fail "summary line: want '1 passed, 0 failed, 2 skipped' in: $(cat "$E2E_TMP/out")"
grep -qx 'SKIPPED sk77: skip: no widget here' "$E2E_TMP/out" || fail "skip reason not shown: $(cat "$E2E_TMP/out")"
assert_eq "$(run CI=true "$J")" 1 "CI=true with skips"
grep -q '2 test(s) skipped outside' "$E2E_TMP/out" || fail "CI failure does not say why: $(cat "$E2E_TMP/out")"
assert_eq "$(run KVMEM_NO_SKIP=1 "$J")" 1 "KVMEM_NO_SKIP=1 with skips"
printf 'sk77  needs a widget no machine of this kind has\nSuite.Gtest  likewise\n' >"$E2E_TMP/allow"
assert_eq "$(run CI=true "$J" "$E2E_TMP/allow")" 0 "CI=true, both skips allowlisted"
printf 'sk77\n' >"$E2E_TMP/bare"
assert_eq "$(run CI=true "$J" "$E2E_TMP/bare")" 1 "allowlist entry without a reason"
grep -q 'has no condition' "$E2E_TMP/out" || fail "bare entry not explained: $(cat "$E2E_TMP/out")"
assert_eq "$(run CI=true "$J" "$SRC/tests/skip-allowlist.txt")" 1 "the project's allowlist spares neither"

sed -i 's|<testcase name="ok" status="run">|<testcase name="bad" status="fail"><failure/></testcase>&|' "$J"
assert_eq "$(run "" "$J")" 1 "a failure"
grep -qx "1 passed, 1 failed, 2 skipped" "$E2E_TMP/out" || fail "summary line with a failure: want '1 passed, 1 failed, 2 skipped' in: $(cat "$E2E_TMP/out")"
pass "ctest_summary: exact counts, skips fail under CI=true and KVMEM_NO_SKIP=1 unless allowlisted with a reason"

# The real format: ctest's own JUnit of a 77-exit test in a scratch project.
P=$E2E_TMP/proj
mkdir -p "$P"
cat >"$P/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(skipcheck NONE)
enable_testing()
add_test(NAME passes COMMAND true)
add_test(NAME skips COMMAND sh -c "echo 'skip: deliberately'; exit 77")
set_tests_properties(skips PROPERTIES SKIP_RETURN_CODE 77)
CM
cmake -S "$P" -B "$P/b" >/dev/null
ctest --test-dir "$P/b" --output-junit "$P/j.xml" >/dev/null || fail "ctest failed on a skip"
assert_eq "$(run CI=true "$P/j.xml")" 1 "CI=true on ctest's own report of a skip"
grep -qx "1 passed, 0 failed, 1 skipped" "$E2E_TMP/out" || fail "summary of ctest's report: want '1 passed, 0 failed, 1 skipped' in: $(cat "$E2E_TMP/out")"
pass "ctest's own JUnit report: a 77 exit counts as skipped and fails under CI=true"
