#!/usr/bin/env bash
# The dashboards type-check against Grafana's own schema: @grafana/schema's TypeScript types,
# `tsc --strict --noEmit`, one typed literal per panel (dashboards/schema/check.py). The npm
# packages are installed once into the build directory, at pinned versions. Skips (77) only
# when npm cannot reach its registry. A deliberately broken copy must fail, so the check has teeth.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} BUILD=${KVMEM_BUILD_DIR:?}
command -v npm >/dev/null || fail "npm not installed; run scripts/setup.sh"
command -v python3 >/dev/null || fail "python3 not installed; run scripts/setup.sh"

SCHEMA_VERSION=13.2.3 TS_VERSION=5.9.3
WORK="$BUILD/dashboard-schema"
mkdir -p "$WORK"
installed() {
  [[ -f "$WORK/node_modules/@grafana/schema/package.json" && -x "$WORK/node_modules/.bin/tsc" ]] &&
    grep -q "\"version\": \"$SCHEMA_VERSION\"" "$WORK/node_modules/@grafana/schema/package.json" &&
    grep -q "\"version\": \"$TS_VERSION\"" "$WORK/node_modules/typescript/package.json"
}
if ! installed; then
  printf '{"name": "kvmem-dashboard-schema", "private": true}\n' >"$WORK/package.json"
  if ! timeout 300 npm install --prefix "$WORK" --no-audit --no-fund --loglevel=error \
      "@grafana/schema@$SCHEMA_VERSION" "typescript@$TS_VERSION" >"$E2E_TMP/npm.log" 2>&1; then
    if ! timeout 30 npm ping >/dev/null 2>&1; then
      echo "SKIP: npm cannot reach its registry ($(npm config get registry)); dashboard schema check not run"
      exit 77
    fi
    cat "$E2E_TMP/npm.log" >&2
    fail "npm install of @grafana/schema@$SCHEMA_VERSION and typescript@$TS_VERSION failed"
  fi
fi
installed || fail "npm did not install the pinned versions into $WORK"

python3 "$SRC/dashboards/schema/check.py" "$WORK" "$SRC"/dashboards/*.json || fail "dashboards do not type-check"
pass "dashboards type-check against @grafana/schema $SCHEMA_VERSION (tsc $TS_VERSION --strict)"

# Teeth: a misspelled key, an unknown legend mode and a string where a number belongs.
mkdir -p "$E2E_TMP/bad"
python3 - "$SRC/dashboards/kvmem-host.json" "$E2E_TMP/bad/kvmem-host.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ts = next(p for p in d["panels"] if p["type"] == "timeseries")
ts["targets"][0]["legendformat"] = ts["targets"][0].pop("legendFormat")
ts["options"]["legend"]["displayMode"] = "tabel"
ts["gridPos"]["h"] = "8"
json.dump(d, open(sys.argv[2], "w"))
PY
mkdir -p "$E2E_TMP/badwork"
ln -s "$WORK/node_modules" "$E2E_TMP/badwork/node_modules"
out=$(python3 "$SRC/dashboards/schema/check.py" "$E2E_TMP/badwork" "$E2E_TMP/bad/kvmem-host.json" 2>&1) &&
  fail "a broken dashboard passed the schema check"
for want in "'\"legendformat\"' does not exist" "Type '\"tabel\"' is not assignable" "Type 'string' is not assignable to type 'number'"; do
  grep -qF "$want" <<<"$out" || fail "schema check did not report: $want; got: $out"
done
pass "a dashboard with a misspelled key, a bad enum value and a wrong type is refused"
echo "monitoring_dashboard_schema: all passed"
