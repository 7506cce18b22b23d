"""INQ-RES-005 and INQ-NOTICE-001: when every inquiry attempt fails, the inquirer stops within
the time its target file states and tells the person the inquiry failed — deciding nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from suites.mesh_inquirer.conftest import Inquirer, Mesh, Person, Tax, describe, tax_attempts

SLACK_S = 1.0
PATIENCE = 3  # how many stated times to wait for a late conclusion before judging the notice


@pytest.fixture(scope="module")
def given_up(harness: Any, target: Any, mesh: Mesh, tax: Tax) -> Iterator[dict[str, Any]]:
    """One application whose every inquiry attempt the mesh answers 503 (Retry-After: 2):
    its last view and how long the inquirer took to conclude it."""
    person = Person.fresh()
    tax.seed(person)
    with harness.client() as client:
        inquirer = Inquirer(client, client, target)
        mesh.fault({"match": {"path_prefix": "/v1/inquiries"},
                    "error": {"rate": 1.0, "status": 503, "retry_after": 2}})
        try:
            after = mesh.last_seq()
            started = time.monotonic()
            application_id = inquirer.submit(person)
            stated = inquirer.give_up_within_s
            view = inquirer.wait([application_id], stated + SLACK_S)[application_id]
            seconds = time.monotonic() - started
            if view["state"] not in ("decided", "certificate-requested", "inquiry-failed"):
                view = inquirer.wait([application_id], PATIENCE * stated)[application_id]
        finally:
            mesh.clear_faults()
    yield {"application_id": application_id, "view": view, "seconds": seconds,
           "stated": stated, "person": person, "after": after}


@pytest.mark.requirement("INQ-RES-005")
def test_a_failing_inquiry_is_given_up_within_the_stated_time(given_up, inquirer, mesh,
                                                              recorded_mesh):
    view = inquirer.wait([given_up["application_id"]], 0)[given_up["application_id"]]
    attempts = tax_attempts(mesh.exchanges(recorded_mesh, given_up["after"]), given_up["person"])
    assert given_up["view"]["state"] not in ("received", "inquiring") \
        and given_up["seconds"] <= given_up["stated"] + SLACK_S, (
        f"with every inquiry answered 503 the application was still {given_up['view']['state']!r}"
        f" {given_up['seconds']:.1f} s after submission; the target states "
        f"give_up_within_s: {given_up['stated']:g} (+{SLACK_S:g} s). Now: {view['state']!r}. "
        f"Attempts the mesh saw: {describe(attempts)}")


@pytest.mark.requirement("INQ-NOTICE-001")
def test_the_person_is_told_the_inquiry_failed_and_nothing_is_decided(given_up, inquirer):
    view = inquirer.wait([given_up["application_id"]], 0)[given_up["application_id"]]
    notice = view.get("notice") or {}
    assert view["state"] == "inquiry-failed", (
        f"an application whose inquiry kept failing ended {view['state']!r}, not "
        f"inquiry-failed; decision: {view.get('decision')}")
    assert view.get("decision") is None, (
        f"an application was decided without the income the inquiry failed to get: "
        f"{view.get('decision')}")
    assert notice.get("kind") == "inquiry-failed" and notice.get("body") \
        and notice.get("next_steps"), (
        f"the person gets no notice of the failed inquiry and what happens next: {notice}")
