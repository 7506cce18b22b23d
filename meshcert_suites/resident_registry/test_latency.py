"""Latency: reads of a resident by 宛名番号 answer within the catalog's target (PERF-READ-001).

The percentile, threshold and the stated load are read from the catalog, so a new catalog
version changes them without touching this test. A structured load (users, rate, duration) is
driven by Locust in its own process (meshcert/load/run.py; Locust's gevent patching must stay out of
pytest); a prose load of an older catalog falls back to sequential reads. The measured
latencies (``latency_ms``) and the load figures (``load``) go to the certificate and report.
"""

from __future__ import annotations

import math
import time

import pytest

from meshcert import Harness, LoadSpec, run_stated_load

SEQUENTIAL_READS = 40  # only for a catalog whose target states its load in prose


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (the value at rank ceil(p/100 * n))."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@pytest.mark.requirement("PERF-READ-001")
def test_resident_reads_answer_within_the_latency_target(api, harness: Harness, catalog, lg,
                                                         population, request):
    target = catalog.get("PERF-READ-001").target
    assert target is not None and target.metric == "latency_ms"
    first = f"/municipalities/{lg}/residents/{population[0]['atena_number']}"
    warm = api.get(first)  # the target answers a read at all, before any load
    assert warm.status_code == 200, f"reading {first}: {warm.status_code} {warm.text[:200]}"
    figures: dict = {}
    if isinstance(target.load, LoadSpec):
        ca = harness.ca_file()
        measured = run_stated_load(
            harness.target.base_url, target.load, token=harness.token(["registry:read"]),
            lg=lg, residents=population, ca_file=str(ca) if ca else None,
            verify=harness.target.tls.verify)
        latencies, figures = measured["samples"], measured["figures"]
        request.node.user_properties.append(("load", figures))
        assert not figures["failed"], (
            f"{figures['failed']} of {figures['requests']} reads under the stated load "
            f"({target.load}) failed: {figures['failures'][:3]}")
        assert latencies, f"no read succeeded under the stated load ({target.load})"
    else:
        latencies = _sequential(api, lg, population)
    request.node.user_properties.append(("latency_ms", latencies))
    measured_p = percentile(latencies, target.percentile)
    achieved = (f" (achieved {figures['rate_achieved']} req/s)"
                if isinstance(target.load, LoadSpec) else "")
    assert measured_p <= target.threshold, (
        f"p{target.percentile} of {len(latencies)} resident reads at {target.load}{achieved} is "
        f"{measured_p:.1f} ms; the target is {target.threshold:.0f} ms "
        f"(slowest {max(latencies):.1f} ms, median {percentile(latencies, 50):.1f} ms)")


def _sequential(api, lg: str, population: list[dict]) -> list[float]:
    latencies = []
    for i in range(SEQUENTIAL_READS):
        path = f"/municipalities/{lg}/residents/{population[i % len(population)]['atena_number']}"
        started = time.perf_counter()
        response = api.get(path)
        latencies.append(round((time.perf_counter() - started) * 1000, 3))
        assert response.status_code == 200, (
            f"reading {path} was answered {response.status_code}: {response.text[:200]}")
    return latencies
