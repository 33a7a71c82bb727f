#!/usr/bin/env bash
# bench/sim/REPORT.md is what the simulator prints today: the report is deterministic, so a
# change to the policy, the cycle or a scenario must come with the regenerated report.
source "$(dirname "$0")/lib.sh"
sim="$KVMEM_BUILD_DIR/bench/sim/kvmem_sim"
fresh="$E2E_TMP/REPORT.md"
(cd "$KVMEM_SOURCE_DIR" && "$sim" --all --scenarios bench/sim/scenarios --report "$fresh" >/dev/null)
if ! diff -u "$KVMEM_SOURCE_DIR/bench/sim/REPORT.md" "$fresh"; then
  fail "bench/sim/REPORT.md is stale: regenerate it with build/bench/sim/kvmem_sim --all --report bench/sim/REPORT.md (from the repository root)"
fi
pass "bench/sim/REPORT.md matches the simulator's output"
