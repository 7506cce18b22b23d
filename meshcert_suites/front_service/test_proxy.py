"""A proxy acts for the principal only within the delegation's scope and time
(FRONT-PROXY-SCOPE-001) and never after the principal revoked it (FRONT-PROXY-REVOKE-001):
the app shows no accepted application and sends the portal no move-out under such a delegation
— the portal would refuse it too, but the app must not try (docs/domain.md invariant 13)."""

from __future__ import annotations

import time

import pytest

from meshcert_suites.front_service.conftest import (
    PROCEDURE,
    App,
    Person,
    Portal,
    accepted,
    body_of,
    form,
)

HOUR_S = 3600.0
SHORT_S = 3.0               # a delegation that ends while the proxy is signed in


def _filed_under(portal: Portal, after: int, delegation_id: str) -> list[dict]:
    return [e for e in portal.sent(after) if body_of(e).get("on_behalf_of") == delegation_id]


@pytest.mark.requirement("FRONT-PROXY-SCOPE-001")
def test_a_proxy_files_only_within_the_delegations_scope_and_time(
        app: App, portal: Portal, person: Person, persons: list[Person]):
    principal, proxy = person, persons[(persons.index(person) + 1) % len(persons)]
    other, _ = portal.delegate(principal, proxy, ["child-allowance"], HOUR_S)
    ending, _ = portal.delegate(principal, proxy, [PROCEDURE], SHORT_S)
    covering, _ = portal.delegate(principal, proxy, [PROCEDURE], HOUR_S)
    session = app.sign_in(proxy)
    after = portal.last_seq()
    answer = session.file(form(7, on_behalf_of=other))
    assert accepted(answer) is None, (
        f"a move-out under a delegation for child-allowance only is shown as accepted: "
        f"{answer.status_code} {answer.text[:300]}")
    assert not _filed_under(portal, after, other), (
        "the app sent the portal a move-out under a delegation that does not cover it")
    time.sleep(SHORT_S + 0.5)
    answer = session.file(form(7, on_behalf_of=ending))
    assert accepted(answer) is None, (
        f"a move-out under a delegation that has ended is shown as accepted: "
        f"{answer.status_code} {answer.text[:300]}")
    assert not _filed_under(portal, after, ending), (
        "the app sent the portal a move-out under a delegation that has ended")
    answer = session.file(form(7, on_behalf_of=covering))
    shown = accepted(answer)
    assert shown is not None, (f"a move-out under a delegation covering it was not accepted: "
                               f"{answer.status_code} {answer.text[:300]}")


@pytest.mark.requirement("FRONT-PROXY-REVOKE-001")
def test_after_revocation_the_proxy_files_nothing_for_the_principal(
        app: App, portal: Portal, person: Person, persons: list[Person]):
    principal, proxy = person, persons[(persons.index(person) + 1) % len(persons)]
    delegation, principal_token = portal.delegate(principal, proxy, [PROCEDURE], HOUR_S)
    session = app.sign_in(proxy)
    first = session.file(form(7, on_behalf_of=delegation))
    assert accepted(first) is not None, (
        f"a move-out under a live delegation was not accepted: {first.status_code} "
        f"{first.text[:300]}")
    portal.revoke(delegation, principal_token)
    after = portal.last_seq()
    again = session.file(form(8, on_behalf_of=delegation))
    assert accepted(again) is None, (
        f"after the principal revoked the delegation, the proxy's move-out is shown as "
        f"accepted: {again.status_code} {again.text[:300]}")
    assert not _filed_under(portal, after, delegation), (
        "after the principal revoked the delegation the app still sent the portal a move-out "
        "under it")
