#!/usr/bin/env bash
# The alert rules: alerts/kvmem.rules.yml is exactly what `kvmem_controller --print-alert-rules`
# generates from deploy/policy.yaml; promtool accepts it (and the rules of other policies); the
# promtool unit tests pass and cover every alert both firing (exact labels and annotations) and
# quiet; and the runbook has one section per alert, no more, each link landing on its section.
source "$(dirname "$0")/lib.sh"
CTL=${KVMEM_CONTROLLER:?} SRC=${KVMEM_SOURCE_DIR:?}
command -v promtool >/dev/null || fail "promtool not installed; run scripts/setup.sh"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml not installed; run scripts/setup.sh"
RULES="$SRC/alerts/kvmem.rules.yml"

"$CTL" --policy "$SRC/deploy/policy.yaml" --print-alert-rules >"$E2E_TMP/generated.yml" || fail "--print-alert-rules failed"
if ! diff -u "$RULES" "$E2E_TMP/generated.yml" >"$E2E_TMP/drift.diff"; then
  cat "$E2E_TMP/drift.diff" >&2
  fail "alerts/kvmem.rules.yml drifted from the generator; regenerate it with:
  build/controller/kvmem_controller --policy deploy/policy.yaml --print-alert-rules > alerts/kvmem.rules.yml"
fi
pass "alerts/kvmem.rules.yml is the generator's output for deploy/policy.yaml"

"$CTL" --print-fleet-rules >"$E2E_TMP/fleet.yml" || fail "--print-fleet-rules failed"
if ! diff -u "$SRC/alerts/kvmem-fleet.rules.yml" "$E2E_TMP/fleet.yml" >"$E2E_TMP/drift.diff"; then
  cat "$E2E_TMP/drift.diff" >&2
  fail "alerts/kvmem-fleet.rules.yml drifted from the generator; regenerate it with:
  build/controller/kvmem_controller --print-fleet-rules > alerts/kvmem-fleet.rules.yml"
fi
pass "alerts/kvmem-fleet.rules.yml is the generator's output"

promtool check rules "$RULES" "$SRC/alerts/kvmem-fleet.rules.yml" >"$E2E_TMP/check.txt" 2>&1 || { cat "$E2E_TMP/check.txt" >&2; fail "promtool check rules"; }
(cd "$SRC/alerts" && promtool test rules tests/*.test.yml) >"$E2E_TMP/test.txt" 2>&1 ||
  { cat "$E2E_TMP/test.txt" >&2; fail "promtool test rules"; }
pass "promtool check rules and promtool test rules ($(ls "$SRC"/alerts/tests/*.test.yml | wc -l) files)"

# Other policies generate valid rules too: bytes instead of percentages, short intervals, long
# windows, parts of the controller switched off.
cat >"$E2E_TMP/other.yaml" <<'YAML'
interval: 500ms
stale_after: 45s
balloon: {enabled: false, reclaim_below: 8GiB, release_above: 16GiB, pressure: {rate_window: 5m, swap_in_rate_above: 512KiB/s}}
compaction: {enabled: false, compact_above: 0.8, for: 90s, thp_fallback_rate_above: 2.5/s}
limits: {max_actions_per_cycle: 3}
placement: {locality_below: 70%, for: 20m}
hugepages: {headroom: 1GiB, retry_after: 5m}
YAML
"$CTL" --policy "$E2E_TMP/other.yaml" --print-alert-rules --alerts.runbook-url=https://wiki.example/kvmem >"$E2E_TMP/other.yml" ||
  fail "--print-alert-rules with another policy"
promtool check rules "$E2E_TMP/other.yml" >/dev/null 2>&1 || fail "promtool rejects the rules of another policy"
grep -q 'expr: kvmem_node_memory_available_bytes < 8589934592$' "$E2E_TMP/other.yml" || fail "byte threshold not in rules"
grep -q 'for: 90s$' "$E2E_TMP/other.yml" || fail "compaction.for not in rules"
grep -q 'runbook_url: "https://wiki.example/kvmem#kvmemnodememorylow"' "$E2E_TMP/other.yml" || fail "--alerts.runbook-url"
grep -q 'will not act on it: compaction.enabled is false' "$E2E_TMP/other.yml" || fail "disabled compaction not said"
# placement.for 20m + ten 500ms cycles; three 5m retry_after + ten cycles.
grep -A1 'expr: kvmem_domain_numa_locality_ratio < 0.7$' "$E2E_TMP/other.yml" | grep -q 'for: 1205s$' ||
  fail "placement.locality_below and placement.for not in the locality alert"
grep -A1 'expr: kvmem_controller_hugepage_pool_shortfall_pages > 0$' "$E2E_TMP/other.yml" | grep -q 'for: 905s$' ||
  fail "hugepages.retry_after not in the pool shortfall alert"
grep -q 'hugepages.headroom (1 GiB) need' "$E2E_TMP/other.yml" || fail "hugepages.headroom not in the shortfall description"
pass "another policy's rules (bytes, 500ms, disabled parts, placement and hugepages keys, own runbook URL) pass promtool"

# Every fleet recording rule has a promtool test of its exact values.
python3 - "$RULES" "$SRC/alerts/kvmem-fleet.rules.yml" "$SRC/alerts/tests" <<'PY' || fail "fleet recording rules without a promtool test"
import glob, sys, yaml
host_rules, fleet_rules, tests_dir = sys.argv[1:4]
records = {r["record"] for g in yaml.safe_load(open(host_rules))["groups"] if g["name"] == "kvmem-fleet-host" for r in g["rules"]}
records |= {r["record"] for g in yaml.safe_load(open(fleet_rules))["groups"] for r in g["rules"]}
tested = {case["expr"].strip() for path in glob.glob(f"{tests_dir}/*.test.yml")
          for t in yaml.safe_load(open(path))["tests"] for case in t.get("promql_expr_test", []) if case.get("exp_samples")}
missing = sorted(records - tested)
if missing:
    sys.exit("no promql_expr_test with samples for: " + ", ".join(missing))
print(f"{len(records)} fleet recording rules, each tested")
PY
pass "every fleet recording rule has a promtool test with exact samples"

python3 - "$RULES" "$SRC/alerts/tests" "$SRC/alerts/runbook.md" <<'PY' || fail "alert coverage, annotations or runbook"
import glob, re, sys, yaml
rules, tests_dir, runbook = sys.argv[1:4]
alerts = {r["alert"]: r for g in yaml.safe_load(open(rules))["groups"] for r in g["rules"] if "alert" in r}
problems = []
firing, quiet = set(), set()
for path in glob.glob(f"{tests_dir}/*.test.yml"):
    for t in yaml.safe_load(open(path))["tests"]:
        for case in t.get("alert_rule_test", []):
            name = case["alertname"]
            if name not in alerts:
                problems.append(f"{path}: tests unknown alert {name}")
            if not case.get("exp_alerts"):
                quiet.add(name)
                continue
            firing.add(name)
            for exp in case["exp_alerts"]:
                if exp.get("exp_labels", {}).get("severity") != alerts.get(name, {}).get("labels", {}).get("severity"):
                    problems.append(f"{path}: {name}: expected labels lack its severity")
                if set(exp.get("exp_annotations", {})) != {"summary", "description", "runbook_url"}:
                    problems.append(f"{path}: {name}: expected annotations must be exactly summary, description, runbook_url")
sections = re.findall(r"^## (\S+)\s*$", open(runbook).read(), re.M)
for name, r in alerts.items():
    a = r.get("annotations", {})
    if name not in firing: problems.append(f"{name}: no promtool test where it fires")
    if name not in quiet: problems.append(f"{name}: no promtool test where it stays quiet")
    if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"): problems.append(f"{name}: severity")
    if not a.get("summary", "").endswith(".") or "{{" in a.get("summary", ""): problems.append(f"{name}: summary must be static and end with a full stop")
    if "$labels" not in a.get("description", "") or "$value" not in a.get("description", ""): problems.append(f"{name}: description needs $labels and $value")
    if not a.get("runbook_url", "").endswith("alerts/runbook.md#" + name.lower()): problems.append(f"{name}: runbook_url {a.get('runbook_url')}")
    if name not in sections: problems.append(f"{name}: no '## {name}' section in alerts/runbook.md")
for s in sections:
    if s not in alerts: problems.append(f"runbook section {s} names no alert")
if problems:
    sys.exit("\n".join(problems))
print(f"{len(alerts)} alerts: each fires and stays quiet in promtool tests, each has its runbook section")
PY
pass "coverage: every alert firing and quiet, annotations complete, one runbook section each"
echo "monitoring_rules: all passed"
