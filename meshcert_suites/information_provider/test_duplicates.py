"""A record id is never processed twice (PRV-DUP-001, docs/domain.md §6.5): the mesh resends an
inquiry under the same record id when it lost the answer; the provider answers it as the first
time, with no second art. 23 record — and refuses another inquiry under that record id. Resends
arrive one after another and at once (the mesh retrying on several connections): a race too
must leave one answer and one record."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from meshcert.checks import ensure_problem_media_type
from meshcert_suites.information_provider.mesh_side import Asked, opaque_id

AT_ONCE = 8  # identical provisions sent together


@pytest.mark.requirement("PRV-DUP-001")
def test_an_identical_resend_gets_the_first_answer_and_no_second_record(mesh, persons, item):
    cursor = mesh.records_end()
    first = mesh.ask(persons[0].code, item)
    assert first.response.status_code == 200, first.describe()
    resent = mesh.ask(persons[0].code, item, record_id=first.record_id)
    assert resent.response.status_code == 200, resent.describe()
    assert resent.response.json() == first.response.json(), (
        f"the resend of {first.record_id} got another answer: {resent.describe()}")
    records = [r for r in mesh.records_after(cursor) if r["record_id"] == first.record_id]
    assert len(records) == 1, (
        f"{len(records)} art. 23 records of {first.record_id} after an identical resend: it "
        "was processed again")


@pytest.mark.requirement("PRV-DUP-001")
def test_another_inquiry_under_a_used_record_id_is_refused(mesh, persons, item, foreign_item):
    first = mesh.ask(persons[0].code, item)
    assert first.response.status_code == 200, first.describe()
    other = mesh.ask(persons[1].code, foreign_item, record_id=first.record_id)
    assert other.response.status_code == 409, (
        f"a second inquiry under record id {first.record_id} must be refused with 409: "
        f"{other.describe()}")
    ensure_problem_media_type(other.response,
                              what=f"a second inquiry under record id {first.record_id}")


@pytest.mark.requirement("PRV-DUP-001")
def test_identical_provisions_sent_at_once_are_processed_once(mesh, persons, item,
                                                             foreign_item):
    cursor = mesh.records_end()
    record_id = opaque_id("prv-race")
    start = threading.Barrier(AT_ONCE)

    def ask(_: int) -> Asked:
        start.wait(timeout=30)  # released together: the provider sees them at once
        return mesh.ask(persons[0].code, item, record_id=record_id)

    with ThreadPoolExecutor(AT_ONCE) as pool:
        asked = list(pool.map(ask, range(AT_ONCE)))
    answers = [(one.response.status_code, one.response.text) for one in asked]
    assert all(status == 200 for status, _ in answers), (
        f"{AT_ONCE} identical provisions under {record_id} sent at once: " +
        "; ".join(one.describe() for one in asked if one.response.status_code != 200))
    bodies = {str(one.response.json()) for one in asked}
    assert len(bodies) == 1, (
        f"{AT_ONCE} identical provisions under {record_id} sent at once got {len(bodies)} "
        f"different answers: {sorted(bodies)[:3]}")
    records = [r for r in mesh.records_after(cursor) if r["record_id"] == record_id]
    assert len(records) == 1, (
        f"{len(records)} art. 23 records of {record_id} after {AT_ONCE} identical provisions "
        f"sent at once: it was processed {len(records)} times")
    other = mesh.ask(persons[1].code, foreign_item, record_id=record_id)
    assert other.response.status_code == 409, (
        f"another inquiry under the raced record id {record_id} must be refused with 409: "
        f"{other.describe()}")
