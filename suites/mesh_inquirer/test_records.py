"""INQ-REC-001: both sides keep an art. 23 record of every inquiry (番号法 第23条; DOMAIN.md
§6.4): the inquirer's own records match the mesh's, one to one by record id — a property over
generated applicants, with and without data at the provider."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from suites.mesh_inquirer.conftest import Person
from suites.mesh_inquirer.strategies import households

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
