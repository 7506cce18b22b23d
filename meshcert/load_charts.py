"""Inline SVG line charts for the load and capacity reports (no scripts, no network): series of
(x, y) points on shared axes, with optional horizontal reference lines (a latency target) and
marked points (the knee)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 680, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 44
COLOURS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float]]
    colour: str | None = None
    dashed: bool = False


@dataclass(frozen=True)
class Line:
    label: str
    y: float
    colour: str = "#dc2626"


def _step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 10 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def line_chart(series: Sequence[Series], *, title: str, x_label: str, y_label: str,
               lines: Sequence[Line] = (), marks: Sequence[tuple[float, float, str]] = ()
               ) -> str:
    """An SVG chart; empty string when no series has a point."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return ""
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points] + [line.y for line in lines]
    x_min, x_max = min(xs), max(xs)
    if x_max == x_min:
        x_max = x_min + 1
    y_top = max(ys) * 1.08 or 1.0
    y_step = _step(y_top)
    y_max = math.ceil(y_top / y_step) * y_step
    x_step = _step(x_max - x_min)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - y / y_max * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
           f'{HEIGHT}" role="img" aria-label="{escape(title)}">',
           f'<text x="{LEFT}" y="18" class="chart-title">{escape(title)}</text>']
    tick = 0.0
    while tick <= y_max + 1e-9:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(tick):.1f}" '
                   f'y2="{py(tick):.1f}" class="grid"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py(tick) + 4:.1f}" class="axis" '
                   f'text-anchor="end">{_fmt(tick)}</text>')
        tick += y_step
    tick = math.ceil(x_min / x_step) * x_step
    while tick <= x_max + 1e-9:
        out.append(f'<text x="{px(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" class="axis" '
                   f'text-anchor="middle">{_fmt(tick)}</text>')
        tick += x_step
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" class="axis" '
               f'text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="12" y="{TOP + plot_h / 2:.0f}" class="axis" text-anchor="middle" '
               f'transform="rotate(-90 12 {TOP + plot_h / 2:.0f})">{escape(y_label)}</text>')
    for line in lines:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(line.y):.1f}" '
                   f'y2="{py(line.y):.1f}" stroke="{line.colour}" stroke-width="2" '
                   f'stroke-dasharray="8 4" class="target"><title>{escape(line.label)}'
                   '</title></line>')
        out.append(f'<text x="{WIDTH - RIGHT - 4}" y="{py(line.y) - 4:.1f}" class="axis" '
                   f'text-anchor="end" fill="{line.colour}">{escape(line.label)}</text>')
    legend_x = LEFT + 8
    for index, item in enumerate(drawn):
        colour = item.colour or COLOURS[index % len(COLOURS)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}"
                        for i, (x, y) in enumerate(item.points))
        dash = ' stroke-dasharray="4 3"' if item.dashed else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.8"'
                   f'{dash} class="series"><title>{escape(item.label)}</title></path>')
        if len(item.points) == 1:
            x, y = item.points[0]
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<rect x="{legend_x}" y="{TOP + 2}" width="10" height="3" '
                   f'fill="{colour}"/><text x="{legend_x + 14}" y="{TOP + 7}" '
                   f'class="legend">{escape(item.label)}</text>')
        legend_x += 22 + 6.5 * len(item.label)
    for x, y, label in marks:
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" fill="none" '
                   f'stroke="#111827" stroke-width="2" class="mark"><title>{escape(label)}'
                   f'</title></circle>')
        out.append(f'<text x="{px(x) + 8:.1f}" y="{py(y) - 8:.1f}" class="axis">'
                   f'{escape(label)}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(0):.1f}" y2="{py(0):.1f}" '
               'class="axis-line"/></svg>')
    return "".join(out)


STYLE = """
svg.chart { width: 100%; height: auto; background: #fff; }
svg .chart-title { font: 600 13px system-ui, sans-serif; fill: #111827; }
svg .axis, svg .legend { font: 11px system-ui, sans-serif; fill: #4b5563; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .axis-line { stroke: #9ca3af; stroke-width: 1; }
"""
