"""DOWN-BACKOFF-001: after a 429 or 503 with Retry-After the system's next feed read waits as
told; left alone it polls, but no faster than its stated interval; a change written during the
refusals still arrives. Judged from what reached the registry (its exchange capture)."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from meshcert.catalog.targets import DownstreamSettings
from meshcert_suites.downstream_system.conftest import Town, ensure_view_is_record
from meshcert_suites.downstream_system.registry_side import Registry
from meshcert_suites.downstream_system.system_side import System

TOLERANCE_S = 0.25
RETRY_AFTER_S = 2
SCOPE = "global.downstream-backoff"


def arrived(exchange: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(exchange["at"])


def answered(exchange: dict[str, Any]) -> datetime:
    return arrived(exchange) + timedelta(milliseconds=exchange["duration_ms"])


def reached_the_end(exchange: dict[str, Any]) -> bool:
    return exchange["status"] == 200 and '"has_more":false' in exchange["response_body"]


@pytest.mark.requirement("DOWN-BACKOFF-001")
def test_left_alone_it_polls_no_faster_than_its_interval(registry: Registry,
                                                         downstream: DownstreamSettings):
    interval = downstream.poll_interval_s
    mark = registry.last_exchange()
    time.sleep(3 * interval + 0.5)
    reads = registry.exchanges(downstream.client, after=mark)
    assert reads, (f"the system did not read the feed once in {3 * interval + 0.5:g} s (its "
                   f"stated interval is {interval:g} s)")
    for before, after in itertools.pairwise(reads):
        if reached_the_end(before):
            gap = (arrived(after) - answered(before)).total_seconds()
            assert gap >= interval - TOLERANCE_S, (
                f"the system read the feed again {gap:.2f} s after a read that reached its end "
                f"(query {after['query']}); its stated interval is {interval:g} s")


@pytest.mark.requirement("DOWN-BACKOFF-001")
@pytest.mark.parametrize("status", [429, 503])
def test_a_refusal_is_not_retried_before_its_retry_after(
        system: System, registry: Registry, town: Town, downstream: DownstreamSettings,
        status: int):
    mark = registry.last_exchange()
    registry.fault(SCOPE, {"match": {"client_id": downstream.client,
                                     "path_prefix": f"/municipalities/{registry.lg_code}/changes"},
                           "error": {"rate": 1.0, "status": status,
                                     "retry_after": RETRY_AFTER_S},
                           "max_hits": 1})
    try:
        family = town.new_household(2)  # written while the feed refuses
        deadline = time.monotonic() + 3 * downstream.poll_interval_s + RETRY_AFTER_S + 5
        reads: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            reads = registry.exchanges(downstream.client, after=mark)
            refused = [i for i, e in enumerate(reads) if e["status"] == status]
            if refused and len(reads) > refused[0] + 1:
                break
            time.sleep(0.2)
    finally:
        registry.clear_fault(SCOPE)
    refused = [i for i, e in enumerate(reads) if e["status"] == status]
    assert refused, "the system did not read the feed while the fault was on"
    first = refused[0]
    assert len(reads) > first + 1, (f"after the {status} the system did not read the feed "
                                    "again")
    gap = (arrived(reads[first + 1]) - answered(reads[first])).total_seconds()
    assert gap >= RETRY_AFTER_S - TOLERANCE_S, (
        f"the feed answered {status} with Retry-After: {RETRY_AFTER_S}, and the system read it "
        f"again {gap:.2f} s later")
    system.catch_up(registry.read_feed())
    for record in family:
        ensure_view_is_record(system, record["atena_number"],
                              registry.latest[record["atena_number"]])
