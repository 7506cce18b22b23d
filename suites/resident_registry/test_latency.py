"""Latency: reads of a resident by 宛名番号 answer within the catalog's target (PERF-READ-001).

The percentile and threshold are read from the catalog, so a new catalog version changes the
target without touching this test. The measured latencies go to the report (``latency_ms``).
"""

from __future__ import annotations

import math
import time

import pytest

READS = 40  # sequential reads ("the stated load" of catalog 2026.1); the load suite goes further


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (the value at rank ceil(p/100 * n))."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@pytest.mark.requirement("PERF-READ-001")
def test_resident_reads_answer_within_the_latency_target(api, catalog, lg, population, request):
    target = catalog.get("PERF-READ-001").target
    assert target is not None and target.metric == "latency_ms"
    seeded = [f"/municipalities/{lg}/residents/{p['atena_number']}" for p in population]
    paths = [seeded[i % len(seeded)] for i in range(READS)]
    warm = api.get(paths[0])  # opens the connection: a handshake is not a read
    assert warm.status_code == 200, f"reading {paths[0]}: {warm.status_code} {warm.text[:200]}"
    # Once more reads are over the threshold than the percentile allows, the verdict is known.
    allowed_over = READS - math.ceil(target.percentile / 100 * READS)
    latencies: list[float] = []
    over = 0
    for path in paths:
        started = time.perf_counter()
        response = api.get(path)
        latencies.append(round((time.perf_counter() - started) * 1000, 3))
        assert response.status_code == 200, (
            f"reading {path} was answered {response.status_code}: {response.text[:200]}")
        over += latencies[-1] > target.threshold
        if over > allowed_over:
            break
    request.node.user_properties.append(("latency_ms", latencies))
    measured = percentile(latencies, target.percentile)
    assert measured <= target.threshold, (
        f"p{target.percentile} of {len(latencies)} sequential resident reads is "
        f"{measured:.1f} ms; the target is {target.threshold:.0f} ms "
        f"(slowest {max(latencies):.1f} ms, median {percentile(latencies, 50):.1f} ms)")
