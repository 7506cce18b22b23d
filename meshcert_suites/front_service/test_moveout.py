"""The move-out the app files: as the person entered it and only inside its window
(FRONT-MOVEOUT-WINDOW-001), one application however often the app resends
(FRONT-MOVEOUT-IDEMP-001), and the registry's real status in the app's view (FRONT-STATUS-001).
Judged from what the app showed the person, what the portal received (its exchange capture)
and what the old municipality's registry holds."""

from __future__ import annotations

import time

import pytest

from meshcert_suites.front_service.conftest import (
    MOVEOUTS,
    App,
    Clerk,
    Person,
    Portal,
    accepted,
    body_of,
    created_ids,
    form,
    idempotency_key,
    wait_until,
)

INSIDE_DAYS = 7             # a move a week ahead: inside the window
OUTSIDE_DAYS = 40           # 40 days ahead: before the window opens (30 days before)
PORTAL_STALL_S = 3.0        # beyond the app's stated resend_after_s


@pytest.mark.requirement("FRONT-MOVEOUT-WINDOW-001")
def test_the_move_out_is_filed_as_entered_and_only_inside_its_window(
        app: App, portal: Portal, clerk: Clerk, person: Person):
    session = app.sign_in(person)
    after = portal.last_seq()
    outside = form(OUTSIDE_DAYS)
    refused = session.file(outside)
    assert accepted(refused) is None, (
        f"a move {OUTSIDE_DAYS} days ahead (outside the online filing window) is shown as "
        f"accepted: {refused.status_code} {refused.text[:300]}")
    inside = form(INSIDE_DAYS)
    answer = session.file(inside)
    shown = accepted(answer)
    assert shown is not None, (f"a move {INSIDE_DAYS} days ahead is not accepted: "
                               f"{answer.status_code} {answer.text[:300]}")
    assert shown.get("status") == "受付", f"a new move-out shows status {shown.get('status')!r}"
    sent = portal.sent(after)
    entered = {outside["moving_date"], inside["moving_date"]}
    changed = [body_of(e).get("moving_date") for e in sent
               if body_of(e).get("moving_date") not in entered]
    assert not changed, (f"the app sent the portal moving dates the person never entered: "
                         f"{changed} (entered: {sorted(entered)})")
    addresses = [body_of(e).get("new_address") for e in sent]
    assert all(a == inside["new_address"] for a in addresses), (
        f"the app sent another new address than entered: {addresses}")
    created = created_ids(sent)
    assert created == {shown["id"]}, (
        f"the portal created {sorted(created)} for this person; the app shows {shown['id']}")
    assert clerk.status(shown["id"]) == "受付"


@pytest.mark.requirement("FRONT-MOVEOUT-IDEMP-001")
def test_a_resend_after_a_timeout_is_the_same_application(
        app: App, portal: Portal, person: Person):
    session = app.sign_in(person)
    stall_s = app.settings.resend_after_s + PORTAL_STALL_S
    after = portal.last_seq()
    portal.fault({"match": {"method": "POST", "path_prefix": MOVEOUTS},
                  "latency": stall_s * 1000, "max_hits": 1})
    started = time.monotonic()
    answer = session.file(form(INSIDE_DAYS), timeout=stall_s * 4 + 30)
    wait_until(started + stall_s + 1.0)   # the stalled first request has been answered too
    sent = portal.sent(after)
    assert sent, "the app sent the portal no move-out"
    keys = [idempotency_key(e) for e in sent]
    assert None not in keys, f"a filing of the app carries no idempotency key: {keys}"
    assert len(set(keys)) == 1, (
        f"one submission reached the portal {len(sent)} times with {len(set(keys))} different "
        f"idempotency keys {keys}: each resend is a new application")
    ids = created_ids(sent)
    assert len(ids) <= 1, f"the portal holds {len(ids)} applications for one submission: {ids}"
    shown = accepted(answer)
    if shown is not None:
        assert {shown["id"]} == ids or not ids, (
            f"the app shows application {shown['id']}, the portal made {ids}")


@pytest.mark.requirement("FRONT-STATUS-001")
def test_the_status_shown_is_the_registrys_now(app: App, portal: Portal, clerk: Clerk,
                                                person: Person):
    session = app.sign_in(person)
    shown = accepted(session.file(form(INSIDE_DAYS)))
    assert shown is not None, "a move-out inside the window was not accepted"
    moveout_id = str(shown["id"])
    for step in ("受付", "処理中", "完了"):
        if step != "受付":
            clerk.advance(moveout_id, step)
        truth = clerk.status(moveout_id)
        view = session.view(moveout_id)
        assert view.is_success, (f"the status view of {moveout_id} failed while the registry "
                                 f"says {truth}: {view.status_code} {view.text[:300]}")
        assert view.json().get("status") == truth, (
            f"the app shows status {view.json().get('status')!r}; the registry says {truth!r}")
    portal.fault({"match": {"method": "GET", "path_prefix": MOVEOUTS},
                  "error": {"rate": 1.0, "status": 503}, "max_hits": 5})
    view = session.view(moveout_id)
    shows = view.json().get("status") if view.is_success else None
    assert not view.is_success, (
        f"the portal could not answer, yet the app shows status {shows!r} "
        f"({view.status_code}): a remembered or guessed status")
