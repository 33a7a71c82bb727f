"""Builders for Grafana dashboard JSON (the classic model, schemaVersion 39): variables,
Prometheus targets and the few panel types kvmem's dashboards use, each with every option
Grafana itself would save, so that the JSON type-checks against @grafana/schema
(dashboards/schema/) and imports without migration noise. Used by generate.py only."""

DS = {"type": "prometheus", "uid": "${datasource}"}
R = "[$__rate_interval]"


def sel(*parts):
    """A label selector from matchers, empty ones left out: sel('a="1"', "") -> {a="1"}."""
    return "{" + ",".join(p for p in parts if p) + "}"


def target(expr, legend="", ref="A", instant=False, fmt="time_series"):
    t = {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend or "__auto",
         "range": not instant, "instant": instant, "format": fmt, "refId": ref}
    return t


def targets(*pairs):
    """(expr, legend) pairs -> targets with refIds A, B, C..."""
    return [target(e, l, chr(ord("A") + i)) for i, (e, l) in enumerate(pairs)]


def _thresholds(steps):
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def _field_defaults(unit, custom, thresholds=None, mappings=None, minimum=None, maximum=None, decimals=None):
    d = {"color": {"mode": "palette-classic" if custom is not None and "drawStyle" in custom else "thresholds"},
         "mappings": mappings or [], "thresholds": _thresholds(thresholds or [(None, "green")]), "unit": unit}
    if custom is not None:
        d["custom"] = custom
    if minimum is not None:
        d["min"] = minimum
    if maximum is not None:
        d["max"] = maximum
    if decimals is not None:
        d["decimals"] = decimals
    return d


def _panel(kind, title, description, tgts, options, defaults, w, h):
    return {"type": kind, "title": title, "description": description, "datasource": DS,
            "targets": tgts, "options": options, "fieldConfig": {"defaults": defaults, "overrides": []},
            "gridPos": {"h": h, "w": w, "x": 0, "y": 0}}


def timeseries(title, description, tgts, unit="short", stack=False, minimum=None, maximum=None,
               w=12, h=8, legend_calcs=("lastNotNull", "max"), draw="line", thresholds=None):
    custom = {"drawStyle": draw, "lineInterpolation": "linear", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
              "gradientMode": "none", "showPoints": "never", "pointSize": 4, "spanNulls": False,
              "axisPlacement": "auto", "axisLabel": "", "axisBorderShow": False, "axisCenteredZero": False,
              "axisColorMode": "text", "scaleDistribution": {"type": "linear"},
              "barAlignment": 0, "stacking": {"mode": "normal" if stack else "none", "group": "A"},
              "hideFrom": {"legend": False, "tooltip": False, "viz": False},
              "thresholdsStyle": {"mode": "dashed" if thresholds else "off"}}
    options = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                          "calcs": list(legend_calcs)},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    defaults = _field_defaults(unit, custom, thresholds=thresholds, minimum=minimum, maximum=maximum)
    return _panel("timeseries", title, description, tgts, options, defaults, w, h)


def stat(title, description, tgts, unit="short", mappings=None, thresholds=None, w=6, h=4, text_mode="auto",
         decimals=None):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "orientation": "auto", "textMode": text_mode, "colorMode": "value", "graphMode": "none",
               "justifyMode": "auto", "wideLayout": True, "showPercentChange": False,
               "percentChangeColorMode": "standard"}
    defaults = _field_defaults(unit, None, thresholds=thresholds, mappings=mappings, decimals=decimals)
    return _panel("stat", title, description, tgts, options, defaults, w, h)


def table(title, description, tgts, w=24, h=8, unit="short", hidden=("Time",), columns=None, sort=None,
          units=None, mappings=None):
    """Several instant table targets become one table: merged on their labels (give every target the
    same ones), each value column named by columns {refId: name}, its unit from units {name: unit}
    and mappings {name: value_map}. sort: (column, descending)."""
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False, "filterable": False}
    options = {"showHeader": True, "cellHeight": "sm", "frameIndex": 0,
               "sortBy": [{"displayName": sort[0], "desc": sort[1]}] if sort else []}
    p = _panel("table", title, description, tgts, options, _field_defaults(unit, custom), w, h)
    organize = {"excludeByName": {k: True for k in hidden}}
    p["transformations"] = []
    if columns:
        p["transformations"].append({"id": "merge", "options": {}})
        value = (lambda ref: f"Value #{ref}") if len(tgts) > 1 else (lambda ref: "Value")
        organize["renameByName"] = {value(ref): name for ref, name in columns.items()}
    p["transformations"].append({"id": "organize", "options": organize})
    for name, u in (units or {}).items():
        p["fieldConfig"]["overrides"].append(
            {"matcher": {"id": "byName", "options": name}, "properties": [{"id": "unit", "value": u}]})
    for name, m in (mappings or {}).items():
        p["fieldConfig"]["overrides"].append(
            {"matcher": {"id": "byName", "options": name}, "properties": [{"id": "mappings", "value": m}]})
    return p


def state_timeline(title, description, tgts, mappings, w=24, h=6):
    custom = {"fillOpacity": 80, "lineWidth": 0, "hideFrom": {"legend": False, "tooltip": False, "viz": False}}
    options = {"showValue": "auto", "rowHeight": 0.8, "mergeValues": True, "alignValue": "left",
               "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
               "tooltip": {"mode": "single", "sort": "none"}}
    defaults = _field_defaults("short", custom, mappings=mappings)
    defaults["color"] = {"mode": "thresholds"}
    return _panel("state-timeline", title, description, tgts, options, defaults, w, h)


def value_map(pairs):
    """{value: (text, color)} -> one Grafana value mapping."""
    return [{"type": "value",
             "options": {str(v): {"text": t, "color": c, "index": i} for i, (v, (t, c)) in enumerate(pairs.items())}}]


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}


def layout(items):
    """Assigns ids and packs panels left to right, wrapping at 24 columns; rows take a line."""
    x = y = line_h = 0
    for i, p in enumerate(items, start=1):
        p["id"] = i
        g = p["gridPos"]
        if p["type"] == "row" or x + g["w"] > 24:
            y += line_h
            x = line_h = 0
        g["x"], g["y"] = x, y
        if p["type"] == "row":
            y += 1
            continue
        x += g["w"]
        line_h = max(line_h, g["h"])
    return items


def datasource_variable():
    return {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1,
            "regex": "", "skipUrlSync": False}


def query_variable(name, label, query, multi=True, description=""):
    """A label_values() variable; multi-value ones offer "All". Queries use it as =~"$name"."""
    return {"name": name, "label": label, "description": description, "type": "query", "datasource": DS,
            "query": query, "hide": 0, "includeAll": multi, "multi": multi,
            "options": [], "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 3}


def dashboard(uid, title, description, variables, panels, annotations=()):
    return {
        "uid": uid, "title": title, "description": description, "tags": ["kvmem"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "weekStart": "",
        "time": {"from": "now-1h", "to": "now"}, "timezone": "", "refresh": "30s", "fiscalYearStartMonth": 0,
        "liveNow": False, "timepicker": {},
        "links": [{"title": "kvmem", "type": "dashboards", "tags": ["kvmem"], "asDropdown": True, "icon": "external link",
                   "includeVars": False, "keepTime": True, "targetBlank": False, "tooltip": ""}],
        "annotations": {"list": list(annotations)},
        "templating": {"list": [datasource_variable()] + list(variables)},
        "panels": layout(list(panels)),
    }


def annotation(name, expr, title, text, color="orange", step="10s"):
    return {"name": name, "datasource": DS, "enable": True, "hide": False, "iconColor": color,
            "target": {"refId": "Anno", "expr": expr, "interval": step, "titleFormat": title, "textFormat": text,
                       "tagKeys": "", "useValueForTime": False}}
