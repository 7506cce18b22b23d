"""INQ-REC-001: both sides keep an art. 23 record of every inquiry (番号法 第23条; docs/domain.md
§6.4): the inquirer's own records match the mesh's, one to one by record id — a property over
generated applicants, with and without data at the provider; and for every kind of failure,
refusal and no-data the harness can cause (meshcert_suites/mesh_inquirer/failures.py), an own record
of the inquiry that agrees with what crossed the mesh."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from meshcert_suites.mesh_inquirer.conftest import (
    TAX_ITEM,
    Person,
    describe,
    inquiry_body,
    tax_attempts,
)
from meshcert_suites.mesh_inquirer.failures import KINDS
from meshcert_suites.mesh_inquirer.strategies import households

# Every example costs real applications across real processes: a few, and no shrinking (the
# first failing household is reported as generated; the seed replays it).
PROPERTY = settings(max_examples=3, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
TIME_SLACK_S = 2.0


def seconds_apart(a: str | None, b: str | None) -> float:
    if a is None or b is None:
        return 0.0 if a == b else float("inf")
    return abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds())


def mismatches(mine: dict, theirs: dict) -> list[str]:
    """How the inquirer's record differs from the mesh's record of the same record id."""
    found = []
    for field in ("procedure_code", "provider"):
        if mine.get(field) != theirs.get(field):
            found.append(f"{field} {mine.get(field)!r} ≠ mesh {theirs.get(field)!r}")
    if mine.get("item_code") not in theirs.get("item_codes", []):
        found.append(f"item_code {mine.get('item_code')!r} ∉ mesh {theirs.get('item_codes')}")
    if (mine.get("outcome") == "provided") != (theirs.get("outcome") == "provided"):
        found.append(f"outcome {mine.get('outcome')!r} vs mesh {theirs.get('outcome')!r}")
    for field in ("requested_at", "provided_at"):
        if seconds_apart(mine.get(field), theirs.get(field)) > TIME_SLACK_S:
            found.append(f"{field} {mine.get(field)} vs mesh {theirs.get(field)}")
    return found


@pytest.mark.requirement("INQ-REC-001")
@PROPERTY
@given(batch=households)
def test_every_inquiry_is_recorded_on_both_sides_alike(batch, inquirer, mesh, recorded_mesh,
                                                       tax):
    # One applicant the provider never has data for, in every batch.
    people = [person for person, _ in batch] + [Person.fresh("齋藤 ひなた")]
    tax.seed(*(person for person, has_data in batch if has_data))
    start = inquirer.last_record_seq()
    inquirer.wait([inquirer.submit(p) for p in people], inquirer.give_up_within_s + 2)
    mine = inquirer.records_after(start)
    theirs = [r for p in people for r in mesh.records_of(recorded_mesh, p)]
    assert theirs, "the mesh recorded no inquiry of the inquirer for these applicants"
    mine_ids = [r["record_id"] for r in mine]
    assert len(mine_ids) == len(set(mine_ids)), (
        f"the inquirer's own records repeat record ids: {sorted(mine_ids)}")
    mine_by_id = {r["record_id"]: r for r in mine}
    theirs_by_id = {r["record_id"]: r for r in theirs}
    unrecorded = sorted(theirs_by_id.keys() - mine_by_id.keys())
    assert not unrecorded, (
        f"the mesh recorded inquiries the inquirer keeps no record of: "
        f"{[theirs_by_id[i] for i in unrecorded][:3]}")
    answered = {i for i, r in mine_by_id.items() if r.get("outcome") in ("provided", "refused")}
    one_sided = sorted(answered - theirs_by_id.keys())
    assert not one_sided, (
        f"the inquirer records answered inquiries the mesh has no record of: "
        f"{[mine_by_id[i] for i in one_sided][:3]}")
    differing = {i: mismatches(mine_by_id[i], theirs_by_id[i])
                 for i in sorted(theirs_by_id.keys() & mine_by_id.keys())}
    differing = {i: d for i, d in differing.items() if d}
    assert not differing, f"records that differ from the mesh's (by record id): {differing}"


# Kinds whose attempts the mesh processed but whose answer never reached the inquirer: the
# mesh may hold a "provided" record the inquirer rightly keeps as failed.
ANSWER_LOST = {"timeout", "slow-body"}
# What the own record may say as the exchange ended (the contract's outcomes): a refusal may
# be kept as refused or as failed, never as provided or still pending.
OWN_OUTCOMES = {"gives-up": {"failed"}, "refused": {"refused", "failed"},
                "no-data": {"provided"}}


def unskewed(record: dict, skew_s: float) -> dict:
    """The mesh's record with its times back on the real clock (the plan shifted them)."""
    if not skew_s:
        return record
    moved = dict(record)
    for name in ("requested_at", "provided_at"):
        if moved.get(name):
            moved[name] = (datetime.fromisoformat(moved[name])
                           - timedelta(seconds=skew_s)).isoformat()
    return moved


@pytest.mark.requirement("INQ-REC-001")
@pytest.mark.parametrize("kind", [k.name for k in KINDS])
def test_failed_refused_and_empty_inquiries_are_recorded_on_both_sides(
        kind, failure_outcomes, inquirer, mesh, recorded_mesh):
    outcome = failure_outcomes[kind]
    why = outcome.kind.why
    sent = tax_attempts(mesh.exchanges(recorded_mesh, outcome.mesh_after), outcome.person)
    seen = {inquiry_body(e).get("record_id") for e in sent}
    view = inquirer.wait([outcome.application_id], 0)[outcome.application_id]
    listed = {i.get("record_id") for i in view.get("inquiries", [])}
    # The tax inquiry's own records (an inquiry of another item is INQ-PROC-001's concern).
    own = [r for r in inquirer.records_after(outcome.records_after)
           if r["record_id"] in seen | listed and r.get("item_code") == TAX_ITEM]
    ids = [r["record_id"] for r in own]
    assert len(ids) == len(set(ids)), f"{why}: the inquirer's records repeat record ids: {ids}"
    if not sent:  # nothing crossed (no 符号): no record is owed, none may claim data
        assert all(r["outcome"] != "provided" for r in own), (
            f"{why}: no inquiry reached the mesh, yet the inquirer records one as provided: "
            f"{own}")
        return
    assert own, (
        f"{why}: the inquirer sent the inquiry (record ids {sorted(seen)}) but keeps no art. 23 "
        f"record of it (GET /v1/provision-records): what the mesh saw: {describe(sent)}")
    strangers = sorted(set(ids) - seen)
    assert not strangers, (
        f"{why}: the inquirer records record ids that never crossed the mesh {strangers}; "
        f"what crossed: {describe(sent)}")
    expected = OWN_OUTCOMES[outcome.kind.ends]
    wrong = [(r["record_id"], r["outcome"]) for r in own if r["outcome"] not in expected]
    assert not wrong, (
        f"{why}: the inquirer's records say (record id, outcome) {wrong}, not "
        f"{' or '.join(sorted(expected))} as what crossed: {describe(sent)}")
    if outcome.kind.ends == "no-data":
        statuses = {r["record_id"]: r["item_status"] for r in own}
        assert all(s == "02" for s in statuses.values()), (
            f"{why}: the provider answered item status 02 (no data), but the inquirer "
            f"records {statuses}")
    theirs = {r["record_id"]: unskewed(r, outcome.kind.clock_skew_s)
              for r in mesh.records_of(recorded_mesh, outcome.person)
              if r["record_id"] in seen}
    if outcome.kind.name in ANSWER_LOST:
        return  # the mesh's record is of an answer that never arrived: nothing to agree on
    mine = {r["record_id"]: r for r in own}
    unrecorded = sorted(theirs.keys() - mine.keys())
    assert not unrecorded, (
        f"{why}: the mesh recorded {[theirs[i] for i in unrecorded]}, the inquirer keeps no "
        "record of it")
    differing = {i: d for i in sorted(theirs.keys() & mine.keys())
                 if (d := mismatches(mine[i], theirs[i]))}
    assert not differing, f"{why}: records that differ from the mesh's: {differing}"
