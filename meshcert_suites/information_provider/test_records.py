"""Art. 23 provision records (PRV-REC-001, My Number Act art. 23, docs/domain.md §6.4): every
exchange is recorded, refusals included (art. 23 records whether data was provided). The harness
keeps its side (record id, procedure, item, who asked, when it sent and when the answer came);
the provider's export (``GET /v1/provision-records``, the audit scope, e.g. ``tax:audit``) must
hold one record per exchange with the same record id, procedure and item, the client that asked
as inquirer, the item status answered (null when refused) and times inside the exchange — for
every kind of exchange the harness can cause here: data provided, no data (a 符号 never issued,
the person's 符号 at another institution), an item not provided, a refusal of a client that is not
the mesh (403), and a refusal of another inquiry under a used record id (409). A property:
Hypothesis draws sequences of such exchanges."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from meshcert_suites.information_provider.mesh_side import (
    AUDITOR,
    MESH_CLIENT,
    OTHER_INSTITUTION,
    Asked,
    code_for,
    person_key,
)

# Clocks of two systems: the provider's times may differ from the harness's by this much.
CLOCK_TOLERANCE = timedelta(seconds=2)
EXAMPLES = 5
KINDS = ("provided", "no-data", "elsewhere", "not-provided", "not-the-mesh", "duplicate")
exchanges = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000)), min_size=1,
                     max_size=4)
REFUSED = {403: "not the mesh", 409: "a used record id"}


def _key(one: Asked) -> tuple[str, str, bool]:
    """An exchange's record: a refused inquiry under a used record id is another record of
    that id, for the other item it asked."""
    return one.record_id, one.item_code, one.response.status_code in REFUSED


def _check(one: Asked, inquirer: str, found: list[dict]) -> None:
    assert len(found) == 1, (
        f"{len(found)} art. 23 records of {one.record_id} (item {one.item_code}, "
        f"{'refused' if _key(one)[2] else 'answered'}) — one expected; {one.describe()}")
    [record] = found
    assert (record.get("procedure_code"), record.get("item_code")) == \
        (one.procedure_code, one.item_code), f"record {record} of {one.describe()}"
    assert record.get("inquirer_client") == inquirer, (
        f"the record names {record.get('inquirer_client')!r} as inquirer, not the client that "
        f"asked, {inquirer!r}: {one.describe()}")
    requested = datetime.fromisoformat(record["requested_at"])
    provided = datetime.fromisoformat(record["provided_at"])
    earliest, latest = one.sent_at - CLOCK_TOLERANCE, one.answered_at + CLOCK_TOLERANCE
    assert earliest <= requested <= provided <= latest, (
        f"record {one.record_id}: requested {requested.isoformat()}, provided "
        f"{provided.isoformat()}; the exchange ran from {one.sent_at.isoformat()} to "
        f"{one.answered_at.isoformat()} (±{CLOCK_TOLERANCE.total_seconds():g} s)")
    entry = one.answered_item()
    answered = entry.get("status") if entry is not None else None
    if _key(one)[2] or entry is not None:  # what the answer said is what was recorded
        assert record.get("item_status") == answered, (
            f"record {one.record_id} says item status {record.get('item_status')!r}, the "
            f"answer said {answered!r} ({one.response.status_code}: refused "
            f"{REFUSED.get(one.response.status_code, '-')})")


@pytest.mark.requirement("PRV-REC-001")
def test_every_exchange_is_in_the_providers_records(harness, mesh, persons, provider, item,
                                                     foreign_item, audit_scope, request):
    cursor = mesh.records_end()
    stranger = harness.client(harness.token([audit_scope], client_id=AUDITOR, sub=AUDITOR),
                              recorder=harness.recorder_for(request.node))
    request.addfinalizer(stranger.close)
    inquirers: dict[str, str] = {}

    def ask(kind: str, n: int) -> list[Asked]:
        held = persons[n % len(persons)].code
        if kind == "no-data":
            return [mesh.ask(code_for(provider.institution, f"unheld-{n}"), item)]
        if kind == "elsewhere":
            return [mesh.ask(code_for(OTHER_INSTITUTION, person_key(n % len(persons))), item)]
        if kind == "not-the-mesh":
            one = mesh.ask(held, item, client=stranger)
            inquirers[one.record_id] = AUDITOR
            return [one]
        if kind == "duplicate":  # answered, then another inquiry under its record id
            first = mesh.ask(held, item)
            return [first, mesh.ask(held, foreign_item, record_id=first.record_id)]
        return [mesh.ask(held, item if kind == "provided" else foreign_item)]

    # No shrinking: each example is a round of HTTP calls; the failing one is reported as is.
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(drawn=exchanges)
    @example(drawn=[(kind, n) for n, kind in enumerate(KINDS)])  # each kind, always
    def recorded(drawn) -> None:
        nonlocal cursor
        asked = [one for kind, n in drawn for one in ask(kind, n)]
        records = mesh.records_after(cursor)
        cursor = max([cursor, *(int(r["seq"]) for r in records)])
        by_key: dict[tuple[str, str, bool], list[dict]] = {}
        for record in records:
            key = (record.get("record_id"), record.get("item_code"),
                   record.get("outcome") == "refused")
            by_key.setdefault(key, []).append(record)  # type: ignore[arg-type]
        for one in asked:
            _check(one, inquirers.get(one.record_id, MESH_CLIENT), by_key.get(_key(one), []))
        unasked = sorted(set(by_key) - {_key(one) for one in asked})
        assert not unasked, f"records of exchanges the harness never had: {unasked}"

    recorded()
