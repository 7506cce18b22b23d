"""Reading what a Locust run wrote: ``<prefix>_stats.csv`` (per request name, whole run),
``<prefix>_stats_history.csv`` (every second; with ``--csv-full-history`` per request name too)
and ``<prefix>_failures.csv``; and the exact per-request samples of meshcert_loadtests/common.py.

Locust's percentiles are bucketed (2 significant digits above 100 ms) and, over time, taken
over its sliding window of the last ~10 s; the exact samples (local runs) give nearest-rank
percentiles per step, which capacity planning and certification use.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AGGREGATED = "Aggregated"
REPORTED = ("50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%")


def _num(value: str | None) -> float | None:
    if value in (None, "", "N/A"):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def reported_percentile(row: dict[str, str], p: float) -> float | None:
    """Locust's value for percentile ``p``: the smallest reported percentile ≥ p."""
    for column in REPORTED:
        if float(column.rstrip("%")) >= p:
            return _num(row.get(column))
    return _num(row.get("100%"))


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def endpoint_stats(prefix: Path) -> list[dict[str, Any]]:
    """One entry per request name, and the ``Aggregated`` total last."""
    found = []
    for row in _read(Path(f"{prefix}_stats.csv")):
        requests = int(_num(row.get("Request Count")) or 0)
        failures = int(_num(row.get("Failure Count")) or 0)
        method, name = row.get("Type") or "", row["Name"]
        found.append({
            "method": method, "name": name, "requests": requests,
            "label": name if name.startswith(f"{method} ") or not method else f"{method} {name}",
            "failures": failures, "failure_ratio": failures / requests if requests else 0.0,
            "rps": _num(row.get("Requests/s")) or 0.0,
            "mean_ms": _num(row.get("Average Response Time")),
            "min_ms": _num(row.get("Min Response Time")),
            "p50_ms": reported_percentile(row, 50), "p95_ms": reported_percentile(row, 95),
            "p99_ms": reported_percentile(row, 99), "max_ms": _num(row.get("Max Response Time")),
        })
    return found


def history(prefix: Path) -> dict[str, list[dict[str, Any]]]:
    """Per request name (and ``Aggregated``): a point a second — seconds since the first row,
    users, requests/s, failures/s and the current p50/p95/p99/max (Locust's ~10 s window)."""
    rows = _read(Path(f"{prefix}_stats_history.csv"))
    if not rows:
        return {}
    start = min(int(_num(r["Timestamp"]) or 0) for r in rows)
    series: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        requests = int(_num(row.get("Total Request Count")) or 0)
        if requests == 0 and row["Name"] != AGGREGATED:
            continue
        series.setdefault(row["Name"], []).append({
            "t": int(_num(row["Timestamp"]) or 0) - start,
            "users": int(_num(row.get("User Count")) or 0),
            "rps": _num(row.get("Requests/s")) or 0.0,
            "fail_rps": _num(row.get("Failures/s")) or 0.0,
            "p50_ms": reported_percentile(row, 50), "p95_ms": reported_percentile(row, 95),
            "p99_ms": reported_percentile(row, 99), "max_ms": _num(row.get("100%")),
            "requests": requests,
        })
    return series


_ADDRESS = re.compile(r" at 0x[0-9a-f]+|object at [^>]+")
_CAUGHT = re.compile(r"CatchResponseError\(['\"](.*)['\"]\)")


def failure_kinds(prefix: Path) -> list[dict[str, Any]]:
    """Failures by kind: the status and problem type the locustfile named, or the exception."""
    kinds: dict[tuple[str, str, str], int] = {}
    for row in _read(Path(f"{prefix}_failures.csv")):
        error = _ADDRESS.sub("", row.get("Error") or "").strip()
        caught = _CAUGHT.fullmatch(error)  # the locustfile's own words: "HTTP 503 <type>"
        error = caught.group(1) if caught else error
        key = (row.get("Method") or "", row.get("Name") or "", error)
        kinds[key] = kinds.get(key, 0) + int(_num(row.get("Occurrences")) or 0)
    return [{"method": m, "name": n, "kind": e, "count": c}
            for (m, n, e), c in sorted(kinds.items(), key=lambda kv: -kv[1])]


# -- exact samples -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: float        # epoch seconds
    name: str
    ms: float
    ok: bool


def read_samples(folder: Path) -> list[Sample]:
    found: list[Sample] = []
    for path in sorted(Path(folder).glob("samples-*.csv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            at, rest = line.split(",", 1)
            name, ms, ok = rest.rsplit(",", 2)
            found.append(Sample(float(at), name, float(ms), ok == "1"))
    found.sort(key=lambda s: s.at)
    return found


def nearest_rank(values: Iterable[float], p: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]
