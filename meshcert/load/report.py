"""load.json and load.html of a load run: one self-contained page (inline CSS and SVG charts,
no scripts, no network) — verdict against the catalog's latency targets, throughput over time,
p50/p95/p99/max per request over time and overall, failures by kind, and the assumptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from meshcert.reports.charts import STYLE, Line, Series, line_chart

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["ms"] = lambda v: "—" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")
_PAGE = _ENV.from_string("""\
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>meshcert load — {{ d.scenario.name }} — {{ d.run }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #111827; margin: 24px auto; max-width: 1400px;
       padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.banner { padding: 12px 16px; border-radius: 8px; margin: 14px 0; font-weight: 600; }
.pass { background: #dcfce7; color: #14532d; } .fail { background: #fee2e2; color: #7f1d1d; }
.info { background: #e0f2fe; color: #0c4a6e; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 3px 12px 3px 0;
text-align: left; border-bottom: 1px solid #e5e7eb; } td.n { text-align: right; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 680px));
          gap: 18px; }
.card { border: 1px solid #d1d5db; border-radius: 8px; padding: 10px; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 3px; }
{{ style }}
</style></head><body>
<h1>Load: {{ d.scenario.title }}</h1>
<div>{{ d.scenario.summary }} — target <code>{{ d.target.name }}</code> at
<code>{{ d.target.base_url }}</code>; run <code>{{ d.run }}</code></div>
{% if d.checks %}
<div class="banner {{ 'pass' if d.passed else 'fail' }}">{{ 'Met' if d.passed else 'Not met' }}:
{% for c in d.checks %}{{ c.requirement }} p{{ c.percentile }} {{ c.observed_ms | ms }} ms
(target ≤ {{ c.threshold_ms }} ms){{ '; ' if not loop.last }}{% endfor %}
{%- if d.failures %}; {{ d.overall.failures if d.overall else '' }} failed requests{% endif %}</div>
{% else %}
<div class="banner {{ 'info' if not d.failures else 'fail' }}">No latency target of the catalog
applies to the requests of this scenario{{ '; requests failed' if d.failures }}.</div>
{% endif %}
<h2>Load</h2>
<table>
<tr><th>peak rate offered</th><td>{{ '%.1f' % d.load.peak_rate }} req/s
 (scenario's own figure at this scale: {{ '%.2f' % d.load.natural_peak_rate }} req/s)</td></tr>
<tr><th>users at the peak</th><td>{{ d.load.users }} ×
 {{ '%.3f' % d.load.per_user_rate }} req/s each</td></tr>
<tr><th>duration</th><td>{{ d.load.duration_s }} s ({{ d.scenario.curve }})</td></tr>
<tr><th>achieved</th><td>{% if d.overall %}{{ d.overall.requests }} requests,
 {{ '%.1f' % d.overall.rps }} req/s average, {{ d.overall.failures }} failed{% endif %}</td></tr>
<tr><th>Locust</th><td>{{ 'master' if d.locust.master else 'local' }}{% if d.locust.processes %},
 {{ d.locust.processes }} processes{% endif %}, {{ d.locust.wall_s }} s wall</td></tr>
</table>
<h2>Over time</h2>
<div class="charts">
{% for ch in charts %}<div class="card" data-chart="{{ ch.id }}">{{ ch.svg | safe }}</div>
{% endfor %}
</div>
<h2>Latency per request (whole run)</h2>
<table><tr><th>request</th><th>requests</th><th>failed</th><th>req/s</th><th>p50 ms</th>
<th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>
{% for e in rows %}<tr><td><code>{{ e.label }}</code></td>
<td class="n">{{ e.requests }}</td><td class="n">{{ e.failures }}</td>
<td class="n">{{ '%.1f' % e.rps }}</td><td class="n">{{ e.p50_ms | ms }}</td>
<td class="n">{{ e.p95_ms | ms }}</td><td class="n">{{ e.p99_ms | ms }}</td>
<td class="n">{{ e.max_ms | ms }}</td></tr>
{% endfor %}</table>
{% if d.checks %}<h2>Catalog latency targets</h2>
<table><tr><th>requirement</th><th>request</th><th>observed</th><th>target</th><th>how</th>
<th>verdict</th></tr>
{% for c in d.checks %}<tr><td>{{ c.requirement }} ({{ c.level }})</td>
<td><code>{{ c.request }}</code></td>
<td>p{{ c.percentile }} {{ c.observed_ms | ms }} ms</td><td>≤ {{ c.threshold_ms }} ms</td>
<td>{{ c.how }}</td><td>{{ 'met' if c.met else 'not met' }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Failures by kind</h2>
{% if d.failures %}<table><tr><th>request</th><th>kind</th><th>count</th></tr>
{% for f in d.failures %}<tr><td><code>{{ f.name }}</code></td><td>{{ f.kind }}</td>
<td class="n">{{ f.count }}</td></tr>{% endfor %}</table>
{% else %}<p>None.</p>{% endif %}
<h2>Assumptions</h2>
<ul>{% for a in d.assumptions %}<li>{{ a }}</li>{% endfor %}
<li>percentiles over time are Locust's, over its sliding window of the last ~10 s;
whole-run percentiles are Locust's bucketed ones (2 significant digits)</li></ul>
</body></html>
""")


def _points(series: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [(p["t"], float(p[key])) for p in series if p.get(key) is not None]


def charts(data: dict[str, Any]) -> list[dict[str, str]]:
    history = data["history"]
    total = history.get("Aggregated", [])
    offered: list[tuple[float, float]] = []
    start = 0.0
    for end, rate in data["load"]["offered"]:
        offered += [(start, rate), (end, rate)]
        start = end
    found = [{"id": "throughput", "svg": line_chart(
        [Series("achieved req/s", _points(total, "rps")),
         Series("failed req/s", _points(total, "fail_rps"), colour="#dc2626"),
         Series("offered req/s", offered, colour="#6b7280", dashed=True)],
        title="Throughput", x_label="seconds", y_label="requests/s")},
        {"id": "users", "svg": line_chart(
            [Series("users", _points(total, "users"), colour="#7c3aed")],
            title="Simulated users", x_label="seconds", y_label="users")}]
    targets = {c["request"]: c for c in data["checks"]}
    for endpoint in data["endpoints"]:
        series = history.get(endpoint["name"], [])
        check = targets.get(endpoint["name"])
        lines = [Line(f"target p{check['percentile']} ≤ {check['threshold_ms']:g} ms",
                      check["threshold_ms"])] if check else []
        found.append({"id": f"latency:{endpoint['name']}", "svg": line_chart(
            [Series("p50", _points(series, "p50_ms"), colour="#059669"),
             Series("p95", _points(series, "p95_ms"), colour="#2563eb"),
             Series("p99", _points(series, "p99_ms"), colour="#d97706"),
             Series("max", _points(series, "max_ms"), colour="#9ca3af", dashed=True)],
            title=endpoint["label"], x_label="seconds",
            y_label="ms", lines=lines)})
    return [c for c in found if c["svg"]]


def render(data: dict[str, Any]) -> str:
    rows = [*data["endpoints"], *([data["overall"]] if data["overall"] else [])]
    return _PAGE.render(d=data, charts=charts(data), rows=rows, style=STYLE)


def write_load_report(report_dir: Path, data: dict[str, Any]) -> Path:
    """Write load.json and load.html into ``report_dir``; returns the HTML's path."""
    (report_dir / "load.json").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    page = report_dir / "load.html"
    page.write_text(render(data), encoding="utf-8")
    return page
