"""Capacity planning: step the offered rate of a scenario's mix until the latency target breaks
or errors appear, find the knee (the highest rate sustained within the target), and project how
many instances of the system the scenario's national peak needs.

One Locust run (its own process) holds each rate for a step; exact per-request samples give
each step's percentile. A step is **sustained** when its timed percentile is within the
threshold, at most 1 % of its requests fail, and it achieved at least 90 % of the offered rate.
The run stops after the first step that is not.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from meshcert.catalog.requirements import LoadSpec
from meshcert.certify.plan import REPORTS_OUT
from meshcert.load import scenarios
from meshcert.load.run import LoadConfigError, run_locust, scenario_or_fail, weights
from meshcert.load.scenarios import Scale
from meshcert.load.stats import Sample, nearest_rank, read_samples
from meshcert.load.systems import System, prepared, run_name
from meshcert.reports.charts import STYLE, Line, Series, line_chart

MAX_ERROR_RATIO = 0.01
MIN_ACHIEVED = 0.9
WARMUP_S = 1.0
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class CapacityOptions:
    scenario: str
    target: Path
    start_rate: float = 20.0
    factor: float = 1.5
    max_rate: float = 5000.0
    step_s: float = 8.0
    per_user_rate: float = 5.0
    percentile: int | None = None       # default: the catalog target's, else 95
    threshold_ms: float | None = None   # default: the catalog target's, else 500 ms
    headroom: float = 0.7               # plan instances to run at this share of the knee
    scale: Scale = field(default_factory=Scale)
    bulk_rows: int = 1000
    out_dir: Path | None = None


def step_rates(start: float, factor: float, maximum: float) -> list[float]:
    if start <= 0 or factor <= 1 or maximum < start:
        raise LoadConfigError("capacity steps need start-rate > 0, factor > 1 and "
                              "max-rate ≥ start-rate")
    rates = [start]
    while rates[-1] * factor <= maximum * 1.0001:
        rates.append(rates[-1] * factor)
    return rates


def judged_target(system: System, scenario: scenarios.Scenario, options: CapacityOptions
                  ) -> tuple[str | None, int, float, str]:
    """(request name or None for all, percentile, threshold, where the target came from)."""
    if system.catalog is not None and system.profile and scenario.read_endpoint:
        for requirement in system.catalog.for_profile(system.profile):
            target = requirement.target
            if target is not None and isinstance(target.load, LoadSpec):
                return (target.load.request, options.percentile or target.percentile,
                        options.threshold_ms or target.threshold, requirement.id)
    return (None, options.percentile or 95, options.threshold_ms or 500.0,
            "command line" if options.threshold_ms else "default (no catalog target applies)")


def evaluate(samples: list[Sample], rates: list[float], step_s: float, request: str | None,
             percentile: int, threshold: float, final: bool = True) -> list[dict[str, Any]]:
    """Each completed step: offered and achieved rate, the timed percentile, error ratio.
    While the run goes on (``final`` False) a step counts as completed only once samples a
    second past its end arrived (the samples are flushed every half second)."""
    if not samples:
        return []
    t0 = samples[0].at
    last = samples[-1].at - t0
    found = []
    for index, rate in enumerate(rates):
        start, end = index * step_s + WARMUP_S, (index + 1) * step_s
        if last < (end - 0.5 if final else end + 1.0):
            break
        inside = [s for s in samples if start <= s.at - t0 < end]
        timed = [s.ms for s in inside if s.ok and (request is None or s.name == request)]
        failed = sum(not s.ok for s in inside)
        achieved = len(inside) / (end - start)
        observed = nearest_rank(timed, percentile)
        errors = failed / len(inside) if inside else 1.0
        sustained = (observed is not None and observed <= threshold
                     and errors <= MAX_ERROR_RATIO and achieved >= MIN_ACHIEVED * rate)
        found.append({"step": index + 1, "offered_rps": round(rate, 2),
                      "achieved_rps": round(achieved, 2), "requests": len(inside),
                      "failed": failed, "error_ratio": round(errors, 4),
                      f"p{percentile}_ms": observed, "observed_ms": observed,
                      "sustained": sustained})
    return found


def _broken(found: list[dict[str, Any]]) -> bool:
    return bool(found) and not found[-1]["sustained"]


def run_capacity(options: CapacityOptions, progress: Progress | None = None) -> dict[str, Any]:
    notify = progress or (lambda _event: None)
    scenario, kind = scenario_or_fail(options.scenario, options.target)
    rates = step_rates(options.start_rate, options.factor, options.max_rate)
    users = [max(1, math.ceil(r / options.per_user_rate)) for r in rates]
    name = run_name("capacity")
    report_dir = (options.out_dir or REPORTS_OUT / name).resolve()
    if report_dir.exists() and any(report_dir.iterdir()):
        raise LoadConfigError(f"--out {report_dir}: exists and is not empty")
    duration = options.step_s * len(rates)
    mix = scenario.peak_mix(options.scale, kind)
    # Each step: a user count; the per-user rate is fixed, so users × rate = the step's rate.
    plan = {"scenario": scenario.name, "kind": kind, "duration_s": duration,
            "per_user_rate": options.per_user_rate, "spawn_rate": max(100.0, max(users)),
            "stages": [[(i + 1) * options.step_s, u] for i, u in enumerate(users)],
            "weights": weights(mix, options.bulk_rows)}
    with prepared(options.target, name, duration_s=duration,
                  notify=lambda text: notify({"event": "phase", "text": text})) as system, \
            tempfile.TemporaryDirectory(prefix="meshcert-capacity-") as work:
        request, percentile, threshold, source = judged_target(system, scenario, options)
        if kind == "mesh":
            system.data.update(bulk_rows=options.bulk_rows, bulk_at_start=False)
        notify({"event": "phase", "text": f"stepping {scenario.name}: {len(rates)} steps of "
                f"{options.step_s:g} s, {rates[0]:g} → {rates[-1]:,.0f} req/s; target "
                f"p{percentile} ≤ {threshold:g} ms"})

        told: list[int] = []

        def stop_when(folder: Path) -> bool:
            found = evaluate(read_samples(folder), rates, options.step_s, request, percentile,
                             threshold, final=False)
            if found and found[-1]["step"] not in told:  # each step once, as it completes
                told.append(found[-1]["step"])
                notify({"event": "step", **found[-1]})
            return _broken(found)

        run = run_locust(scenario.locustfile, system, plan, Path(work), samples=True,
                         stop_when=stop_when)
        assert run.samples is not None
        steps = evaluate(read_samples(run.samples), rates, options.step_s, request, percentile,
                         threshold)
    knee = None
    for step in steps:
        if not step["sustained"]:
            break
        knee = step
    national = scenario.national_peak(kind, options.scale.window_s)
    scaled = scenario.peak_rate(options.scale, kind)
    usable = knee["achieved_rps"] * options.headroom if knee else None
    data = {
        "format": "meshcert-capacity/1", "run": name,
        "scenario": {"name": scenario.name, "title": scenario.title},
        "target": {"file": str(options.target), "kind": kind, "name": system.name},
        "judged": {"request": request or "all requests", "percentile": percentile,
                   "threshold_ms": threshold, "source": source,
                   "max_error_ratio": MAX_ERROR_RATIO, "min_achieved": MIN_ACHIEVED},
        "steps": steps, "knee": knee,
        "projection": {
            "national_peak_rps": round(national, 2),
            "scaled_peak_rps": round(scaled, 2),
            "headroom": options.headroom,
            "instances_national": math.ceil(national / usable) if usable else None,
            "instances_scaled": max(1, math.ceil(scaled / usable)) if usable else None,
            "assumptions": [
                *scenario.assumptions(Scale(window_s=options.scale.window_s), kind),
                f"one instance sustains the knee ({knee['achieved_rps'] if knee else '—'} "
                "req/s) of this machine; instances scale linearly (no shared bottleneck) [I]",
                f"instances are planned at {options.headroom:.0%} of the knee (headroom) [I]",
                "the mix of request kinds is the scenario's at its peak"]},
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "capacity.json").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
    (report_dir / "capacity.html").write_text(render(data), encoding="utf-8")
    data["report_dir"] = str(report_dir)
    return data


_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""\
<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>meshcert capacity — {{ d.scenario.name }}</title>
<style>body { font: 14px/1.45 system-ui, sans-serif; max-width: 1200px; margin: 24px auto;
padding: 0 16px; } table { border-collapse: collapse; } th, td { padding: 3px 12px 3px 0;
text-align: left; border-bottom: 1px solid #e5e7eb; } .card { border: 1px solid #d1d5db;
border-radius: 8px; padding: 10px; max-width: 700px; margin: 12px 0; } {{ style }}</style>
</head><body><h1>Capacity: {{ d.scenario.title }} on {{ d.target.name }}</h1>
<p>Judged: p{{ d.judged.percentile }} of {{ d.judged.request }} ≤ {{ d.judged.threshold_ms }} ms
({{ d.judged.source }}), errors ≤ {{ '%.0f' % (d.judged.max_error_ratio * 100) }} %, achieved ≥
{{ '%.0f' % (d.judged.min_achieved * 100) }} % of offered.</p>
<p><b>Knee:</b> {% if d.knee %}{{ d.knee.achieved_rps }} req/s (step {{ d.knee.step }},
p{{ d.judged.percentile }} {{ d.knee.observed_ms }} ms){% else %}none: the first step already
broke the target{% endif %}</p>
{% for svg in charts %}<div class="card">{{ svg | safe }}</div>{% endfor %}
<h2>Steps</h2><table><tr><th>step</th><th>offered req/s</th><th>achieved req/s</th>
<th>p{{ d.judged.percentile }} ms</th><th>errors</th><th>sustained</th></tr>
{% for s in d.steps %}<tr><td>{{ s.step }}</td><td>{{ s.offered_rps }}</td>
<td>{{ s.achieved_rps }}</td>
<td>{{ s.observed_ms }}</td><td>{{ '%.2f' % (s.error_ratio * 100) }} %</td>
<td>{{ 'yes' if s.sustained else 'no' }}</td></tr>{% endfor %}</table>
<h2>Projection</h2><table>
<tr><th>national peak of the scenario</th><td>{{ d.projection.national_peak_rps }} req/s</td></tr>
<tr><th>instances for the national peak</th><td>{{ d.projection.instances_national }}</td></tr>
<tr><th>peak at the given scale</th><td>{{ d.projection.scaled_peak_rps }} req/s →
{{ d.projection.instances_scaled }} instance(s)</td></tr></table>
<h3>Assumptions</h3><ul>{% for a in d.projection.assumptions %}<li>{{ a }}</li>{% endfor %}</ul>
</body></html>
""")


def render(data: dict[str, Any]) -> str:
    steps = data["steps"]
    knee = data["knee"]
    marks = [(knee["offered_rps"], knee["achieved_rps"], f"knee {knee['achieved_rps']} req/s")] \
        if knee else []
    throughput = line_chart(
        [Series("achieved req/s", [(s["offered_rps"], s["achieved_rps"]) for s in steps]),
         Series("offered = achieved", [(s["offered_rps"], s["offered_rps"]) for s in steps],
                colour="#9ca3af", dashed=True)],
        title="Throughput against offered rate", x_label="offered requests/s",
        y_label="achieved requests/s", marks=marks)
    latency = line_chart(
        [Series(f"p{data['judged']['percentile']}",
                [(s["offered_rps"], s["observed_ms"]) for s in steps
                 if s["observed_ms"] is not None])],
        title="Latency against offered rate", x_label="offered requests/s", y_label="ms",
        lines=[Line(f"target {data['judged']['threshold_ms']:g} ms",
                    data["judged"]["threshold_ms"])])
    return _PAGE.render(d=data, charts=[c for c in (throughput, latency) if c], style=STYLE)
