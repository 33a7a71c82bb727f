#!/usr/bin/env bash
# The hugepage and placement actuators against a real libvirtd (qemu driver) and a real QEMU
# guest (tests/e2e/vm): runs the ActuateGuest.* cases of kvmem_unit_tests inside the guest
# harness and requires all three to pass, none skipped (virNodeAllocPages on node 0 and back,
# live vCPU and emulator pinning read back with virDomainGetVcpuPinInfo, migrate_pages on
# the QEMU process found by its -uuid). Exit 77 only when this machine cannot run the guest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then exec "$here/vm/with-guest.sh" "$0" "$@"; fi
source "$here/lib.sh"
TESTS=${KVMEM_BUILD_DIR:?}/tests/kvmem_unit_tests
[[ -x "$TESTS" ]] || fail "$TESTS not built"
if ! "$TESTS" --gtest_filter='ActuateGuest.*' --gtest_color=no 2>&1 | tee "$E2E_TMP/out.txt"; then
  fail "ActuateGuest tests failed"
fi
grep -q '^\[  PASSED  \] 3 tests\.' "$E2E_TMP/out.txt" || fail "expected 3 ActuateGuest tests to pass"
! grep -q '^\[  SKIPPED \]' "$E2E_TMP/out.txt" || fail "an ActuateGuest test skipped inside the guest harness"
pass "hugepage pool via virNodeAllocPages, live pinning and page migration on a real guest"
