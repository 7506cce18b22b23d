"""The console's charts, as inline SVG made on the server (no script): the verdict grid of a
trend (requirements × runs) and latency percentiles over runs against the catalog target."""

from __future__ import annotations

from html import escape
from typing import Any

from meshcert.reports.charts import Line, Series, line_chart

# Fill and a letter per verdict, so the grid does not rely on colour alone.
CELL = {"pass": ("#15803d", "✓"), "fail": ("#b91c1c", "✗"), "error": ("#7e22ce", "!"),
        "expected-fail": ("#b45309", "x"), "not-tested": ("#9ca3af", "–")}
SIZE, LEFT, TOP = 18, 150, 20


def verdict_grid(requirements: list[str], run_ids: list[str],
                 cells: dict[tuple[str, str], str], title: str) -> str:
    """One row per requirement, one column per run (oldest left); each cell titled with
    requirement, run and verdict."""
    width = LEFT + SIZE * max(1, len(run_ids)) + 10
    height = TOP + SIZE * max(1, len(requirements)) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="grid-chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">']
    for col in range(len(run_ids)):
        out.append(f'<text x="{LEFT + col * SIZE + SIZE / 2:.0f}" y="14" class="axis" '
                   f'text-anchor="middle">{col + 1}</text>')
    for row, req in enumerate(requirements):
        y = TOP + row * SIZE
        out.append(f'<text x="{LEFT - 6}" y="{y + SIZE - 5}" class="axis" '
                   f'text-anchor="end">{escape(req)}</text>')
        for col, run_id in enumerate(run_ids):
            verdict = cells.get((req, run_id))
            if verdict is None:
                continue
            fill, letter = CELL.get(verdict, ("#e5e7eb", "?"))
            x = LEFT + col * SIZE
            out.append(f'<g data-verdict="{escape(verdict)}"><rect x="{x + 1}" y="{y + 1}" '
                       f'width="{SIZE - 2}" height="{SIZE - 2}" fill="{fill}"/>'
                       f'<text x="{x + SIZE / 2:.0f}" y="{y + SIZE - 5}" fill="#fff" '
                       f'font-size="11" text-anchor="middle">{letter}</text>'
                       f'<title>{escape(req)} · run {col + 1} ({escape(run_id)}): '
                       f'{escape(verdict)}</title></g>')
    out.append("</svg>")
    return "".join(out)


def latency_chart(entry: dict[str, Any], title: str, x_label: str) -> str:
    """p50/p95/p99 per run (x: run number, oldest 1) with the catalog's threshold as a line."""
    points = entry["points"]
    series = [Series(f"p{p}", [(i + 1, pt[f"p{p}_ms"]) for i, pt in enumerate(points)
                               if pt[f"p{p}_ms"] is not None]) for p in (50, 95, 99)]
    lines = []
    if entry.get("threshold_ms"):
        lines.append(Line(f"target p{entry['percentile']} ≤ {entry['threshold_ms']:g} ms",
                          entry["threshold_ms"]))
    return line_chart(series, title=title, x_label=x_label, y_label="ms", lines=lines)
