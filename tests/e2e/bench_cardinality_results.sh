#!/usr/bin/env bash
# bench/cardinality/RESULTS.md holds only what bench/cardinality/run.sh writes: its header
# (date, kernel, commit), every host with both vm-detail levels in order, and columns that add
# up (per host + per node × nodes + per VM × domains = series; full and fleet alike per host
# and node and in the fleet rules). The counts themselves are re-measured only by run.sh.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?}
results=$SRC/bench/cardinality/RESULTS.md
"$SRC/bench/cardinality/run.sh" --check "$results" || fail "bench/cardinality/RESULTS.md drifted from run.sh"
# Teeth: a total edited by hand, and a row taken out.
awk -F' [|] ' '$1 == "| two-node" && $4 == "fleet" { $5 = $5 + 1 } 1' OFS=' | ' "$results" >"$E2E_TMP/edited.md"
! cmp -s "$results" "$E2E_TMP/edited.md" || fail "the edit did not change the file"
! "$SRC/bench/cardinality/run.sh" --check "$E2E_TMP/edited.md" >/dev/null 2>&1 || fail "--check accepted an edited total"
grep -v '^| old-kernel | .* | fleet |' "$results" >"$E2E_TMP/short.md"
! "$SRC/bench/cardinality/run.sh" --check "$E2E_TMP/short.md" >/dev/null 2>&1 || fail "--check accepted a missing row"
pass "bench/cardinality/RESULTS.md: as run.sh writes it, and its columns add up"
