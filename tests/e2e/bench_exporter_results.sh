#!/usr/bin/env bash
# bench/exporter/RESULTS.md holds only what bench/exporter/run.py writes: every section has the
# exact shape of its report (heading with machine and load average, command, the table's rows
# in order, the three verdicts), so a hand-written or hand-edited section fails here. The
# numbers themselves are measurements and cannot be re-derived; the shape can.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?}
python3 "$SRC/bench/exporter/run.py" --check "$SRC/bench/exporter/RESULTS.md" || fail "bench/exporter/RESULTS.md drifted from run.py"
# Teeth: a section with a verdict line removed, as an edit by hand might leave it.
grep -v '^- RSS ' "$SRC/bench/exporter/RESULTS.md" >"$E2E_TMP/edited.md"
! python3 "$SRC/bench/exporter/run.py" --check "$E2E_TMP/edited.md" >/dev/null 2>&1 || fail "--check accepted a section without its RSS verdict"
pass "bench/exporter/RESULTS.md: every section as run.py writes it"
