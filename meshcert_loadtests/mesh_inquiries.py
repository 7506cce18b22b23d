"""Mesh inquiries (docs/domain.md §5 F2, §7): single inquiries with a realistic mix of items and
bulk files of up to 10,000 rows, at the national daily volume scaled to a window.

Each inquirer asks with its own 符号 of seeded persons; every inquiry has a new record id. A
bulk file is submitted, then polled in the background until the mesh has answered every row:
its completion time is reported as the request ``bulk job (N rows)``.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import gevent
from locust import FastHttpUser, events

from meshcert_loadtests.common import PLAN, PlanShape, bearer, check, ssl_context_factory, wait_time

__all__ = ["MeshInquirer", "PlanShape"]

DATA: dict[str, Any] = PLAN["data"]
INQUIRERS: dict[str, dict[str, Any]] = DATA["inquirers"]
BULK_ROWS = int(DATA.get("bulk_rows", 10_000))
SINGLE = "POST /v1/inquiries ({item})"
BULK_SUBMIT = "POST /v1/bulk-inquiries"
BULK_STATUS = "GET /v1/bulk-inquiries/{job}"
BULK_DONE = f"bulk job ({BULK_ROWS:,} rows)"
POLL_S = 1.0


def _row(inquirer: dict[str, Any]) -> dict[str, Any]:
    return {"record_id": f"load-{uuid.uuid4().hex}", "procedure_code": inquirer["procedure"],
            "item_code": inquirer["item"], "provider": inquirer["provider"],
            "code": random.choice(inquirer["codes"])}


def single(user: Any, item: str) -> None:
    inquirer = INQUIRERS[item]
    with user.client.post("/v1/inquiries", json=_row(inquirer), headers=bearer(item),
                          name=SINGLE.format(item=item), catch_response=True) as response:
        check(response, 200)


def bulk(user: Any) -> None:
    """Submit one bulk file (of the bulk inquirer) and follow it to the end in a greenlet."""
    item = DATA["bulk_item"]
    rows = [_row(INQUIRERS[item]) for _ in range(BULK_ROWS)]
    started = time.perf_counter()
    with user.client.post("/v1/bulk-inquiries", json={"rows": rows}, headers=bearer(item),
                          name=BULK_SUBMIT, catch_response=True) as response:
        check(response, 202)
        if response.status_code != 202:
            return
        status_url = response.json()["status_url"]
    gevent.spawn(_follow, user, item, status_url, started)


def _follow(user: Any, item: str, status_url: str, started: float) -> None:
    while user.environment.runner is not None:
        gevent.sleep(POLL_S)
        with user.client.get(f"{status_url}?limit=1", headers=bearer(item), name=BULK_STATUS,
                             catch_response=True) as response:
            check(response, 200)
            if response.status_code != 200:
                continue
            job = response.json()
        if job["state"] == "done":
            failed = int(job["failed"])
            events.request.fire(
                request_type="JOB", name=BULK_DONE, response_length=0, context={},
                response_time=(time.perf_counter() - started) * 1000,
                exception=RuntimeError(f"{failed} of {job['total']} rows failed")
                if failed else None)
            return


def _tasks() -> dict[Any, float]:
    weights = PLAN["weights"]
    found: dict[Any, float] = {}
    for item in INQUIRERS:
        if weights.get(f"inquiry-{item}"):
            found[lambda user, item=item: single(user, item)] = weights[f"inquiry-{item}"]
    if weights.get("bulk"):
        found[bulk] = weights["bulk"]
    return found


class MeshInquirer(FastHttpUser):
    """Inquiring institutions (child-allowance office, benefit agency) asking the mesh."""

    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)
    tasks = _tasks()

    def on_start(self) -> None:
        # The daily bulk volume is a few files an hour: one file is sent at the start of a
        # run (by its first user) so every run shows how the mesh absorbs one.
        if DATA.get("bulk_at_start") and not getattr(MeshInquirer, "_bulk_sent", False):
            MeshInquirer._bulk_sent = True
            bulk(self)
