"""Inline SVG charts for the reports (no scripts, no network): the certification report's
latency histogram, with the observed percentile and the catalog's target as vertical lines, and
the load and capacity reports' line charts — series of (x, y) points on shared axes, with
optional horizontal reference lines (a latency target) and marked points (the knee)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

HIST_WIDTH, HIST_HEIGHT = 640, 240
HIST_LEFT, HIST_RIGHT, HIST_TOP, HIST_BOTTOM = 48, 16, 28, 40
BINS = 24
OFF_SCALE_FACTOR = 4
LINE_WIDTH, LINE_HEIGHT = 680, 260
LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 56, 16, 30, 44
COLOURS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d")


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def latency_histogram(samples: Sequence[float], *, threshold: float | None = None,
                      percentile: int | None = None, observed: float | None = None,
                      title: str = "") -> str:
    """An SVG histogram of ``samples`` (ms). ``threshold`` draws the target line (red, dashed),
    ``observed`` the measured ``percentile`` (blue)."""
    if not samples:
        return ""
    # A target far beyond every sample would squeeze them into one bar: then the axis follows
    # the samples and the target is marked off scale at the right edge.
    off_scale = threshold is not None and threshold > OFF_SCALE_FACTOR * max(samples)
    shown_threshold = 0 if off_scale or threshold is None else threshold
    top_value = max(max(samples), shown_threshold, observed or 0) * 1.05 or 1.0
    step = _step(top_value)
    x_max = math.ceil(top_value / step) * step
    width = x_max / BINS
    counts = [0] * BINS
    for value in samples:
        counts[min(BINS - 1, int(value / width))] += 1
    y_step = max(1, math.ceil(_step(max(counts))))
    y_max = math.ceil(max(counts) / y_step) * y_step or 1
    plot_w, plot_h = HIST_WIDTH - HIST_LEFT - HIST_RIGHT, HIST_HEIGHT - HIST_TOP - HIST_BOTTOM

    def x(value: float) -> float:
        return HIST_LEFT + value / x_max * plot_w

    def y(count: float) -> float:
        return HIST_TOP + plot_h - count / y_max * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {HIST_WIDTH} '
             f'{HIST_HEIGHT}" role="img" aria-label="{escape(title or "latency histogram")}">']
    parts.append(f'<text x="{HIST_LEFT}" y="16" class="chart-title">{escape(title)}</text>')
    tick = 0.0
    while tick <= y_max + 1e-9:  # horizontal grid and y labels
        parts.append(f'<line x1="{HIST_LEFT}" x2="{HIST_WIDTH - HIST_RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{HIST_LEFT - 6}" y="{y(tick) + 4:.1f}" class="axis" '
                     f'text-anchor="end">{int(tick)}</text>')
        tick += y_step
    for index, count in enumerate(counts):
        if count:
            left, right = x(index * width), x((index + 1) * width)
            parts.append(f'<rect x="{left + 1:.1f}" y="{y(count):.1f}" '
                         f'width="{max(right - left - 2, 1):.1f}" '
                         f'height="{y(0) - y(count):.1f}" class="bar"><title>'
                         f'{_fmt(index * width)}–{_fmt((index + 1) * width)} ms: {count}'
                         f'</title></rect>')
    value = 0.0
    while value <= x_max + 1e-9:  # x axis
        parts.append(f'<text x="{x(value):.1f}" y="{HIST_HEIGHT - HIST_BOTTOM + 16}" class="axis" '
                     f'text-anchor="middle">{_fmt(value)}</text>')
        value += step
    parts.append(f'<line x1="{HIST_LEFT}" x2="{HIST_WIDTH - HIST_RIGHT}" y1="{y(0):.1f}" '
                 f'y2="{y(0):.1f}" class="axis-line"/>')
    parts.append(f'<text x="{HIST_LEFT + plot_w / 2:.0f}" y="{HIST_HEIGHT - 6}" class="axis" '
                 f'text-anchor="middle">latency (ms) · {len(samples)} requests</text>')
    label_row = 0
    if observed is not None and percentile is not None:
        parts.append(f'<line x1="{x(observed):.1f}" x2="{x(observed):.1f}" y1="{HIST_TOP}" '
                     f'y2="{y(0):.1f}" class="observed"/>')
        parts.append(_label(x(observed), HIST_TOP + 12, f"p{percentile} {_fmt(observed)} ms",
                            "observed-label"))
        label_row = 1
    if threshold is not None:
        text = f"target p{percentile} ≤ {_fmt(threshold)} ms" if percentile else \
            f"target {_fmt(threshold)} ms"
        if off_scale:
            parts.append(f'<text x="{HIST_WIDTH - HIST_RIGHT}" '
                         f'y="{HIST_TOP + 12 + 14 * label_row}" '
                         f'class="target-label" text-anchor="end">{escape(text)} '
                         f'(off scale) →</text>')
        else:
            parts.append(f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{HIST_TOP}" '
                         f'y2="{y(0):.1f}" class="target"/>')
            parts.append(_label(x(threshold), HIST_TOP + 12 + 14 * label_row, text, "target-label"))
    parts.append("</svg>")
    return "".join(parts)


def _label(at: float, y: float, text: str, css: str) -> str:
    # Right of the line, unless that runs off the chart.
    anchor, dx = ("end", -4) if at > HIST_WIDTH - 170 else ("start", 4)
    return (f'<text x="{at + dx:.1f}" y="{y:.1f}" class="{css}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')


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


def _fmt_short(value: float) -> str:
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
    plot_w, plot_h = LINE_WIDTH - LINE_LEFT - LINE_RIGHT, LINE_HEIGHT - LINE_TOP - LINE_BOTTOM

    def px(x: float) -> float:
        return LINE_LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def py(y: float) -> float:
        return LINE_TOP + plot_h - y / y_max * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {LINE_WIDTH} '
           f'{LINE_HEIGHT}" role="img" aria-label="{escape(title)}">',
           f'<text x="{LINE_LEFT}" y="18" class="chart-title">{escape(title)}</text>']
    tick = 0.0
    while tick <= y_max + 1e-9:
        out.append(f'<line x1="{LINE_LEFT}" x2="{LINE_WIDTH - LINE_RIGHT}" y1="{py(tick):.1f}" '
                   f'y2="{py(tick):.1f}" class="grid"/>')
        out.append(f'<text x="{LINE_LEFT - 6}" y="{py(tick) + 4:.1f}" class="axis" '
                   f'text-anchor="end">{_fmt_short(tick)}</text>')
        tick += y_step
    tick = math.ceil(x_min / x_step) * x_step
    while tick <= x_max + 1e-9:
        out.append(f'<text x="{px(tick):.1f}" y="{LINE_HEIGHT - LINE_BOTTOM + 16}" class="axis" '
                   f'text-anchor="middle">{_fmt_short(tick)}</text>')
        tick += x_step
    out.append(f'<text x="{LINE_LEFT + plot_w / 2:.0f}" y="{LINE_HEIGHT - 8}" class="axis" '
               f'text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="12" y="{LINE_TOP + plot_h / 2:.0f}" class="axis" text-anchor="middle" '
               f'transform="rotate(-90 12 {LINE_TOP + plot_h / 2:.0f})">{escape(y_label)}</text>')
    for line in lines:
        out.append(f'<line x1="{LINE_LEFT}" x2="{LINE_WIDTH - LINE_RIGHT}" y1="{py(line.y):.1f}" '
                   f'y2="{py(line.y):.1f}" stroke="{line.colour}" stroke-width="2" '
                   f'stroke-dasharray="8 4" class="target"><title>{escape(line.label)}'
                   '</title></line>')
        out.append(f'<text x="{LINE_WIDTH - LINE_RIGHT - 4}" y="{py(line.y) - 4:.1f}" class="axis" '
                   f'text-anchor="end" fill="{line.colour}">{escape(line.label)}</text>')
    legend_x = LINE_LEFT + 8
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
        out.append(f'<rect x="{legend_x}" y="{LINE_TOP + 2}" width="10" height="3" '
                   f'fill="{colour}"/><text x="{legend_x + 14}" y="{LINE_TOP + 7}" '
                   f'class="legend">{escape(item.label)}</text>')
        legend_x += 22 + 6.5 * len(item.label)
    for x, y, label in marks:
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" fill="none" '
                   f'stroke="#111827" stroke-width="2" class="mark"><title>{escape(label)}'
                   f'</title></circle>')
        out.append(f'<text x="{px(x) + 8:.1f}" y="{py(y) - 8:.1f}" class="axis">'
                   f'{escape(label)}</text>')
    out.append(f'<line x1="{LINE_LEFT}" x2="{LINE_WIDTH - LINE_RIGHT}" y1="{py(0):.1f}" '
               f'y2="{py(0):.1f}" class="axis-line"/></svg>')
    return "".join(out)


STYLE = """
svg.chart { width: 100%; height: auto; background: #fff; }
svg .chart-title { font: 600 13px system-ui, sans-serif; fill: #111827; }
svg .axis, svg .legend { font: 11px system-ui, sans-serif; fill: #4b5563; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .axis-line { stroke: #9ca3af; stroke-width: 1; }
"""
