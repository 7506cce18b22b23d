"""Latency figures of a certification run: what suites recorded as ``latency_ms``, summarised
and set against the catalog's target for the test's requirement.

Percentiles are nearest-rank (the value below which p % of the samples lie, always a sample),
the usual reading of "p95 under 200 ms" in a service-level target.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from meshcert.catalog.requirements import Catalog
from meshcert.certify.records import TestRecord

PROPERTY = "latency_ms"
LOAD_PROPERTY = "load"
# A whole procedure timed step by step (FRONT-60S-001): each run's steps and where each step's
# time went (hops), and what the measurement left out (think time), as the test recorded them.
HOPS_PROPERTY = "hops"
EXCLUDED_PROPERTY = "excluded"
PERCENTILES = (50, 90, 95, 99)


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def samples_of(test: TestRecord) -> list[float]:
    """The latency samples (ms) a test recorded, finite numbers only."""
    raw = test.user_properties.get(PROPERTY)
    if not isinstance(raw, list):
        return []
    return [float(x) for x in raw if isinstance(x, int | float) and math.isfinite(x)]


def summaries(catalog: Catalog, tests: Iterable[TestRecord]) -> list[dict[str, Any]]:
    """One summary per test that recorded latency: count, mean, percentiles, max, and the
    catalog target of its requirement with whether the run met it."""
    found: list[dict[str, Any]] = []
    for test in tests:
        samples = samples_of(test)
        if not samples:
            continue
        summary: dict[str, Any] = {
            "test": test.nodeid,
            "requirements": list(test.requirements),
            "count": len(samples),
            "mean_ms": round(sum(samples) / len(samples), 3),
            "min_ms": round(min(samples), 3),
            "max_ms": round(max(samples), 3),
            **{f"p{p}_ms": round(percentile(samples, p), 3) for p in PERCENTILES},
            "target": None,
            # The load the samples were taken under (a Locust run), as the test recorded it.
            "load": test.user_properties.get(LOAD_PROPERTY),
            "hops": test.user_properties.get(HOPS_PROPERTY),
            "excluded": test.user_properties.get(EXCLUDED_PROPERTY),
        }
        for requirement_id in test.requirements:
            try:
                target = catalog.get(requirement_id).target
            except ValueError:
                continue
            if target is not None and target.metric == PROPERTY:
                observed = percentile(samples, target.percentile)
                summary["target"] = {"requirement": requirement_id,
                                     "percentile": target.percentile,
                                     "threshold_ms": target.threshold,
                                     "load": str(target.load),
                                     "observed_ms": round(observed, 3),
                                     "met": observed <= target.threshold}
                break
        found.append(summary)
    return found
