"""A whole procedure timed step by step (FRONT-60S-001) reaches the certificate with its budget
and where the time went, and the report shows the budget line and the hops."""

from __future__ import annotations

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.latency import summaries
from tests.unit.sample_report import record

NODE = "meshcert_suites/front_service/test_sixty_seconds.py::test_budget"
HOPS = [{"run": "a person", "machine_ms": 1500.0, "steps": [
    {"step": "submission", "machine_ms": 400.0, "hops": [
        {"hop": "portal", "request": "POST /v1/moveouts", "count": 1, "ms": 380.0},
        {"hop": "app", "request": "its own work and the network", "count": 0, "ms": 20.0}]}]}]
EXCLUDED = {"think_time_s": 2.0, "note": "2 s of scripted think time"}


def _summary(samples: list[float]) -> dict:
    test = record(NODE, ["FRONT-60S-001"], user_properties={
        "latency_ms": samples, "hops": HOPS, "excluded": EXCLUDED})
    found = summaries(load_catalog(), [test])
    assert len(found) == 1
    return {"summary": found[0], "test": test}


def test_the_budget_and_the_hops_reach_the_certificate():
    summary = _summary([1500.0, 61_000.0])["summary"]
    assert summary["target"]["threshold_ms"] == 60_000
    assert summary["target"]["percentile"] == 100
    assert summary["target"]["met"] is False        # the slowest procedure counts
    assert summary["hops"] == HOPS and summary["excluded"] == EXCLUDED

