"""INQ-NOTICE-001, INQ-DEC-001 and INQ-RES-005 for every kind of failure the harness can cause
(meshcert_suites/mesh_inquirer/failures.py): without the income — every attempt failed, the mesh
refused, or the provider had no data — nothing is decided, whatever the outcome is called
(meshcert_suites/mesh_inquirer/decisions.py); a failing inquiry is given up within the stated time,
counted from submission, and nothing is asked of the mesh after it."""

from __future__ import annotations

from typing import Any

import pytest

from meshcert_suites.mesh_inquirer.conftest import Inquirer, Person, arrival, describe, tax_attempts
from meshcert_suites.mesh_inquirer.decisions import ensure_undecided
from meshcert_suites.mesh_inquirer.failures import GIVES_UP, KINDS, PATIENCE, SLACK_S, Outcome


def _requirement(ends: str) -> str:
    return "INQ-DEC-001" if ends == "no-data" else "INQ-NOTICE-001"


def requests_about(exchanges: list[dict[str, Any]], person: Person) -> list[dict[str, Any]]:
    """What the inquirer asked the mesh about ``person``: 符号 requests and inquiries."""
    codes = [e for e in exchanges if e["path"] == "/v1/codes"
             and person.juminhyo_code in e["request_body"]]
    return sorted(codes + tax_attempts(exchanges, person), key=lambda e: e["seq"])


def last_view(inquirer: Inquirer, outcome: Outcome) -> dict[str, Any]:
    return inquirer.wait([outcome.application_id], 0)[outcome.application_id]


@pytest.mark.parametrize("kind", [pytest.param(k.name, marks=pytest.mark.requirement(
    _requirement(k.ends))) for k in KINDS])
def test_without_the_income_nothing_is_decided(kind, failure_outcomes, inquirer):
    outcome = failure_outcomes[kind]
    view = last_view(inquirer, outcome)
    ensure_undecided(view, why=outcome.kind.why)
    notice = view.get("notice") or {}
    expected = "certificate-requested" if outcome.kind.ends == "no-data" else "inquiry-failed"
    assert view["state"] == expected, (
        f"{outcome.kind.why}: the application ended {view['state']!r}, not {expected!r}")
    assert notice.get("kind") == expected and notice.get("body") and notice.get("next_steps"), (
        f"{outcome.kind.why}: the person is not told so and what happens next (a notice of "
        f"kind {expected!r} with a body and next steps): {notice}")


@pytest.mark.requirement("INQ-RES-005")
@pytest.mark.parametrize("kind", GIVES_UP)
def test_a_failing_inquiry_is_given_up_within_the_stated_time(kind, failure_outcomes, inquirer,
                                                              mesh, recorded_mesh):
    outcome = failure_outcomes[kind]
    view = last_view(inquirer, outcome)
    asked = requests_about(mesh.exchanges(recorded_mesh, outcome.mesh_after), outcome.person)
    edge = outcome.stated + SLACK_S
    if outcome.seconds is None:
        later = (f"{PATIENCE * outcome.stated:g} s after submission it had not concluded "
                 f"either (now: {view['state']!r})")
    else:
        later = f"it concluded {view['state']!r} only {outcome.seconds:.1f} s after submission"
    assert outcome.in_time, (
        f"{outcome.kind.why}: {edge:g} s after submission (the target states "
        f"give_up_within_s: {outcome.stated:g}, +{SLACK_S:g} s) the application was still "
        f"{outcome.state_in_time!r}; {later}. What the mesh saw: {describe(asked)}")
    late = [e for e in asked if arrival(e) - outcome.submitted > edge]
    assert not late, (
        f"{outcome.kind.why}: the application concluded {outcome.seconds:.1f} s after "
        f"submission, but the inquirer still asked the mesh later than {edge:g} s after "
        f"submission: {describe(late)}")
