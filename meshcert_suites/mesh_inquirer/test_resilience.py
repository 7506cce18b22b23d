"""INQ-RES-001..004: under faults injected at the mesh for the inquirer's client only, the
inquirer retries transient failures, honours Retry-After, backs off exponentially and reuses
the record id, so nothing is processed twice. The harness sees every attempt as the mesh
received it (faulted ones included) in the mesh's exchange log."""

from __future__ import annotations

import itertools
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from meshcert_suites.mesh_inquirer.conftest import (
    TAX_ITEM,
    Person,
    arrival,
    describe,
    inquiry_body,
    tax_attempts,
)
from meshcert_suites.mesh_inquirer.failures import FAULTS, fault_plan

INQUIRIES = {"path_prefix": "/v1/inquiries"}
SLACK_S = 0.05      # measurement slack on waits
GROWTH = 2.0        # the third wait at least this times the first


def submit_and_conclude(person: Person, inquirer: Any, tax: Any) -> tuple[str, dict[str, Any]]:
    tax.seed(person)
    application_id = inquirer.submit(person)
    view = inquirer.wait([application_id], inquirer.give_up_within_s + 2)[application_id]
    return application_id, view


def gaps(attempts: list[dict[str, Any]]) -> list[float]:
    times = [arrival(e) for e in attempts]
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


def plan_for(kind: str, give_up_within_s: float) -> dict[str, Any]:
    """The fault on the first inquiry attempt only."""
    return fault_plan(kind, give_up_within_s, max_hits=1)


# -- INQ-RES-001 ---------------------------------------------------------------------------


@pytest.mark.requirement("INQ-RES-001")
@pytest.mark.parametrize("kind", list(FAULTS))
def test_a_transient_failure_is_retried_and_the_application_decided(kind, inquirer, faults,
                                                                   recorded_mesh, tax):
    person = Person.fresh()
    after = faults.last_seq()
    faults.fault(plan_for(kind, inquirer.give_up_within_s))
    _, view = submit_and_conclude(person, inquirer, tax)
    attempts = tax_attempts(faults.exchanges(recorded_mesh, after), person)
    assert view["state"] == "decided", (
        f"after a {kind} fault on the first inquiry attempt(s) the application ended "
        f"{view['state']!r}, not decided within {inquirer.give_up_within_s} s (+2 s): the "
        f"inquirer did not retry through it. Attempts the mesh saw: {describe(attempts)}. "
        f"Notice: {view.get('notice')}")


# -- INQ-RES-002 ---------------------------------------------------------------------------


@pytest.mark.requirement("INQ-RES-002")
@pytest.mark.parametrize("status", [503, 429])
def test_the_next_attempt_waits_for_retry_after(status, inquirer, faults, recorded_mesh, tax):
    person = Person.fresh()
    after = faults.last_seq()
    faults.fault({"match": INQUIRIES, "max_hits": 1,
                  "error": {"rate": 1.0, "status": status, "retry_after": 1}})
    submit_and_conclude(person, inquirer, tax)
    attempts = tax_attempts(faults.exchanges(recorded_mesh, after), person)
    if len(attempts) < 2:
        pytest.skip(f"the inquirer did not retry after {status} (see INQ-RES-001): no wait to "
                    "measure")
    waited = gaps(attempts)[0]
    assert waited >= 1.0 - SLACK_S, (
        f"after {status} with Retry-After: 1 the inquirer tried again {waited} s later: "
        f"{describe(attempts[:2])}")


# -- INQ-RES-003 ---------------------------------------------------------------------------


@pytest.mark.requirement("INQ-RES-003")
def test_waits_between_attempts_grow_exponentially(inquirer, faults, recorded_mesh, tax):
    person = Person.fresh()
    after = faults.last_seq()
    faults.fault({"match": INQUIRIES, "max_hits": 3, "error": {"rate": 1.0, "status": 503}})
    submit_and_conclude(person, inquirer, tax)
    attempts = tax_attempts(faults.exchanges(recorded_mesh, after), person)
    waits = gaps(attempts)
    if len(waits) < 3:
        pytest.skip("fewer than four attempts (see INQ-RES-001): no growth to measure")
    first, second, third = waits[:3]
    # Judged on the whole series: a lagging attempt lengthens one wait and shortens the next.
    assert second > first and third > second and third >= GROWTH * first, (
        f"the waits between attempts ({first}, {second}, {third} s) do not grow "
        f"exponentially (each longer than the one before, the third ≥ {GROWTH:g}× the "
        f"first): {describe(attempts)}")


# -- INQ-RES-004 ---------------------------------------------------------------------------


@pytest.mark.requirement("INQ-RES-004")
def test_a_retry_reuses_the_record_id_and_nothing_is_processed_twice(inquirer, faults,
                                                                     recorded_mesh, tax):
    person = Person.fresh()
    after = faults.last_seq()
    # The mesh processes the first attempt, then its answer trickles too slowly to arrive.
    faults.fault(plan_for("slow-body", inquirer.give_up_within_s))
    submit_and_conclude(person, inquirer, tax)
    attempts = tax_attempts(faults.exchanges(recorded_mesh, after), person)
    record_ids = sorted({inquiry_body(e).get("record_id") for e in attempts})
    assert len(record_ids) <= 1, (
        f"attempts of one inquiry carry different record ids {record_ids}: "
        f"{describe(attempts)}")
    provided = [r for r in faults.records_of(recorded_mesh, person)
                if r["outcome"] == "provided" and TAX_ITEM in r["item_codes"]]
    assert len(provided) <= 1, (
        f"the mesh processed the inquiry {len(provided)} times (provided records "
        f"{[r['record_id'] for r in provided]}): a retry must reuse the record id")


RACERS = 6  # identical submissions sent at once


@pytest.mark.requirement("INQ-RES-004")
def test_identical_submissions_at_once_are_one_application_and_one_inquiry(
        inquirer, harness, mesh, recorded_mesh, tax):
    """The contract makes a submission idempotent by application_id ("a resend with the same
    id and body is the same application"): resends racing each other, not only in turn."""
    person = Person.fresh()
    tax.seed(person)
    application_id = f"APP-race-{uuid.uuid4().hex[:16]}"
    form = inquirer.form(person, application_id)
    after, records_after = mesh.last_seq(), inquirer.last_record_seq()
    start = threading.Barrier(RACERS)

    def send(_: int) -> tuple[int, str]:
        with harness.client() as client:
            start.wait(timeout=10)
            answer = client.post(inquirer.path, json=form)
            return answer.status_code, answer.text[:300]

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(send, range(RACERS)))
    refused = [a for a in answers if a[0] not in (200, 201, 202)]
    assert not refused, (
        f"{RACERS} identical submissions of {application_id} at once: some were not taken as "
        f"the same application (status, body): {refused}")
    view = inquirer.wait([application_id], inquirer.give_up_within_s + 2)[application_id]
    attempts = tax_attempts(mesh.exchanges(recorded_mesh, after), person)
    record_ids = sorted({inquiry_body(e).get("record_id") for e in attempts})
    assert len(attempts) == 1 and len(record_ids) == 1, (
        f"{RACERS} identical submissions at once, the mesh healthy: the inquirer asked "
        f"{len(attempts)} times under record ids {record_ids} (one application, one "
        f"inquiry): {describe(attempts)}")
    own = [r for r in inquirer.records_after(records_after) if r["record_id"] in record_ids]
    listed = sorted(i.get("record_id") for i in view.get("inquiries", []))
    assert len(own) == 1 and set(record_ids) <= set(listed), (
        f"one inquiry (record id {record_ids}), but the inquirer's own records of it are "
        f"{[(r['record_id'], r['outcome']) for r in own]} and the application lists "
        f"{listed}")
    provided = [r for r in mesh.records_of(recorded_mesh, person)
                if r["outcome"] == "provided" and TAX_ITEM in r["item_codes"]]
    assert len(provided) == 1, (
        f"the mesh provided the income {len(provided)} times for one application: "
        f"{[r['record_id'] for r in provided]}")
