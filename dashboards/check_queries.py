#!/usr/bin/env python3
"""Runs every query of kvmem's dashboards against a real Prometheus, as Grafana would: variables
are resolved with their own label_values() queries, then each panel query and annotation runs
as a range query once per value of the variables it uses (and once with "All"). Every run must
be accepted; at least one must return a finite sample; every {{label}} in a legend must be a
label of the result. Usage: check_queries.py PROMETHEUS_URL RANGE_SECONDS DASHBOARD.json..."""
import itertools
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BUILTINS = {"$__rate_interval": "5s", "$__interval": "2s"}


def api(base, path, params):
    url = base + path + "?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # Prometheus answers 400/422 with a JSON error body
        return json.load(e)


def regex_escape(value):
    """RE2 metacharacters escaped, so a label value matches itself under =~."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", value)


def promql_string(text):
    """Text placed inside a double-quoted PromQL string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def interpolate(expr, values, range_s):
    out = expr.replace("$__range", f"{range_s}s")
    for k, v in BUILTINS.items():
        out = out.replace(k, v)
    for name in sorted(values, key=len, reverse=True):  # $node before $n
        out = out.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    if "$" in re.sub(r"\$\d", "", out.replace("$labels", "").replace("$value", "")):
        raise ValueError(f"unresolved variable in: {out}")
    return out


def options(var, resolved):
    """Per-value regexes for a variable, plus "All" (the alternation Grafana sends) if offered."""
    vals = [promql_string(regex_escape(v)) for v in resolved]
    if var.get("includeAll") and resolved:
        vals.append(promql_string("(" + "|".join(regex_escape(v) for v in resolved) + ")"))
    return vals


def resolve_variables(base, dashboard, start, end, range_s):
    resolved, all_values = {}, {}
    for var in dashboard["templating"]["list"]:
        if var["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((?:(.*),\s*)?(\w+)\)", var["query"].strip())
        if not m:
            raise ValueError(f"{dashboard['uid']}: variable {var['name']}: unsupported query {var['query']!r}")
        selector, label = m.group(1), m.group(2)
        if selector:
            selector = interpolate(selector, all_values, range_s)
            data = api(base, "/api/v1/series", {"match[]": selector, "start": start, "end": end})
        else:
            data = api(base, f"/api/v1/label/{label}/values", {"start": start, "end": end})
        if data.get("status") != "success":
            raise ValueError(f"{dashboard['uid']}: variable {var['name']}: {data.get('error')}")
        values = sorted({s.get(label) for s in data["data"] if s.get(label)} if selector else set(data["data"]))
        if not values:
            raise ValueError(f"{dashboard['uid']}: variable {var['name']} ({var['query']}) has no values")
        resolved[var["name"]] = (var, values)
        all_values[var["name"]] = promql_string("(" + "|".join(regex_escape(v) for v in values) + ")")
    return resolved


def queries(dashboard):
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            yield f"{dashboard['uid']} / {panel['title']} / {t['refId']}", t["expr"], t.get("legendFormat", "")
    for a in dashboard.get("annotations", {}).get("list", []):
        t = a.get("target", {})
        if "expr" in t:
            yield f"{dashboard['uid']} / annotation {a['name']}", t["expr"], t.get("titleFormat", "") + t.get("textFormat", "")


def check(base, path, range_s, failures):
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    end = time.time()
    start = end - range_s
    resolved = resolve_variables(base, dashboard, start, end, range_s)
    runs = 0
    for where, expr, legend in queries(dashboard):
        used = [n for n in resolved if re.search(r"\$(\{" + n + r"\}|" + n + r"\b)", expr)]
        choices = [options(resolved[n][0], resolved[n][1]) for n in used]
        found = None
        for combo in itertools.product(*choices):
            q = interpolate(expr, dict(zip(used, combo)), range_s)
            data = api(base, "/api/v1/query_range", {"query": q, "start": start, "end": end, "step": 1})
            runs += 1
            if data.get("status") != "success":
                failures.append(f"{where}: rejected: {data.get('error')}\n    {q}")
                break
            finite = [s for s in data["data"]["result"] if any(math.isfinite(float(v)) for _, v in s["values"])]
            if finite and found is None:
                found = finite
        else:
            if found is None:
                failures.append(f"{where}: no data for any value of {used or 'its variables'}\n    {expr}")
                continue
            labels = set().union(*(s["metric"].keys() for s in found))
            for name in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
                if name not in labels:
                    failures.append(f"{where}: legend uses {{{{{name}}}}} but the result has only {sorted(labels)}")
    return runs


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    base, range_s = sys.argv[1].rstrip("/"), int(sys.argv[2])
    failures, runs = [], 0
    for path in sys.argv[3:]:
        try:
            runs += check(base, path, range_s, failures)
        except ValueError as e:
            failures.append(str(e))
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(f"{len(failures)} dashboard query problems")
    print(f"queries: {runs} runs over {len(sys.argv) - 3} dashboards, all accepted, every query returned data")


if __name__ == "__main__":
    main()
