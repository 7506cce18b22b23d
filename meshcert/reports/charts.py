"""Inline SVG charts for the report (no scripts, no network): a latency histogram with the
observed percentile and the catalog's target as vertical lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 40
BINS = 24
OFF_SCALE_FACTOR = 4


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


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
    step = _nice_step(top_value)
    x_max = math.ceil(top_value / step) * step
    width = x_max / BINS
    counts = [0] * BINS
    for value in samples:
        counts[min(BINS - 1, int(value / width))] += 1
    y_step = max(1, math.ceil(_nice_step(max(counts))))
    y_max = math.ceil(max(counts) / y_step) * y_step or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + value / x_max * plot_w

    def y(count: float) -> float:
        return TOP + plot_h - count / y_max * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
             f'{HEIGHT}" role="img" aria-label="{escape(title or "latency histogram")}">']
    parts.append(f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>')
    tick = 0.0
    while tick <= y_max + 1e-9:  # horizontal grid and y labels
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" class="axis" '
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
        parts.append(f'<text x="{x(value):.1f}" y="{HEIGHT - BOTTOM + 16}" class="axis" '
                     f'text-anchor="middle">{_fmt(value)}</text>')
        value += step
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
                 f'class="axis-line"/>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" class="axis" '
                 f'text-anchor="middle">latency (ms) · {len(samples)} requests</text>')
    label_row = 0
    if observed is not None and percentile is not None:
        parts.append(f'<line x1="{x(observed):.1f}" x2="{x(observed):.1f}" y1="{TOP}" '
                     f'y2="{y(0):.1f}" class="observed"/>')
        parts.append(_label(x(observed), TOP + 12, f"p{percentile} {_fmt(observed)} ms",
                            "observed-label"))
        label_row = 1
    if threshold is not None:
        text = f"target p{percentile} ≤ {_fmt(threshold)} ms" if percentile else \
            f"target {_fmt(threshold)} ms"
        if off_scale:
            parts.append(f'<text x="{WIDTH - RIGHT}" y="{TOP + 12 + 14 * label_row}" '
                         f'class="target-label" text-anchor="end">{escape(text)} '
                         f'(off scale) →</text>')
        else:
            parts.append(f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{TOP}" '
                         f'y2="{y(0):.1f}" class="target"/>')
            parts.append(_label(x(threshold), TOP + 12 + 14 * label_row, text, "target-label"))
    parts.append("</svg>")
    return "".join(parts)


def _label(at: float, y: float, text: str, css: str) -> str:
    # Right of the line, unless that runs off the chart.
    anchor, dx = ("end", -4) if at > WIDTH - 170 else ("start", 4)
    return (f'<text x="{at + dx:.1f}" y="{y:.1f}" class="{css}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')
