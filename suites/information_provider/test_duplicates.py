"""A record id is never processed twice (PRV-DUP-001, DOMAIN.md §6.5): the mesh resends an
inquiry under the same record id when it lost the answer; the provider answers it as the first
time, with no second art. 23 record — and refuses another inquiry under that record id."""

from __future__ import annotations

import pytest

from suites.information_provider.mesh_side import FOREIGN_ITEM


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
def test_another_inquiry_under_a_used_record_id_is_refused(mesh, persons, item):
    first = mesh.ask(persons[0].code, item)
    assert first.response.status_code == 200, first.describe()
    other = mesh.ask(persons[1].code, FOREIGN_ITEM, record_id=first.record_id)
    assert other.response.status_code == 409, (
        f"a second inquiry under record id {first.record_id} must be refused with 409: "
        f"{other.describe()}")
    assert other.response.headers.get("content-type", "").startswith(
        "application/problem+json"), other.describe()
