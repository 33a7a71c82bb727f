#!/usr/bin/env python3
"""Type-checks kvmem's dashboards against @grafana/schema with `tsc --strict --noEmit`.
Each dashboard becomes a .ts file in WORKDIR in which every panel is a literal typed by its
panel type (dashboards/schema/types.ts), so excess-property checks catch misspelled keys.
Usage: check.py WORKDIR DASHBOARD.json...   (WORKDIR holds node_modules with @grafana/schema
and typescript; tests/e2e/monitoring_dashboard_schema.sh installs them)."""
import json
import os
import shutil
import subprocess
import sys

PANEL_TYPES = {"timeseries": "TimeSeriesPanel", "stat": "StatPanel", "table": "TablePanel",
               "state-timeline": "StateTimelinePanel", "row": "Row"}


def to_ts(dashboard):
    lines = ['import type { AnyPanel, KvmemDashboard, ' + ", ".join(sorted(set(PANEL_TYPES.values()))) +
             ' } from "./types";', ""]
    names = []
    for i, panel in enumerate(dashboard.get("panels", [])):
        kind = PANEL_TYPES.get(panel.get("type"))
        if kind is None:
            sys.exit(f"{dashboard.get('uid')}: panel {i} has type {panel.get('type')!r}; the schema check knows "
                     f"{sorted(PANEL_TYPES)} (add its types to dashboards/schema/types.ts)")
        names.append(f"p{i}")
        lines.append(f"const p{i}: {kind} = {json.dumps(panel, indent=2, ensure_ascii=False)};")
    rest = {k: v for k, v in dashboard.items() if k != "panels"}
    body = json.dumps(rest, indent=2, ensure_ascii=False)
    lines.append("export const panels: AnyPanel[] = [" + ", ".join(names) + "];")
    # Everything but the panels as one literal, so excess-property checks reach the top level too.
    lines.append("export const top: Omit<KvmemDashboard, \"panels\"> = " + body + ";")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    work, files = sys.argv[1], sys.argv[2:]
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "types.ts"), os.path.join(work, "types.ts"))
    sources = ["types.ts"]
    for path in files:
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
        name = os.path.splitext(os.path.basename(path))[0].replace("-", "_") + ".ts"
        with open(os.path.join(work, name), "w", encoding="utf-8") as f:
            f.write(to_ts(dashboard))
        sources.append(name)
    config = {"compilerOptions": {"strict": True, "noEmit": True, "target": "es2022", "module": "esnext",
                                  "moduleResolution": "bundler", "skipLibCheck": True, "isolatedModules": True},
              "files": sources}
    with open(os.path.join(work, "tsconfig.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    tsc = os.path.join(work, "node_modules", ".bin", "tsc")
    result = subprocess.run([tsc, "-p", os.path.join(work, "tsconfig.json")], cwd=work)
    if result.returncode != 0:
        sys.exit(f"tsc found type errors in the dashboards (sources in {work})")
    print(f"schema: {len(files)} dashboards type-check against @grafana/schema")


if __name__ == "__main__":
    main()
