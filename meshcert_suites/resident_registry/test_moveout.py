"""The online move-out (転出届) from a front service: filed only inside its window, domestic only,
idempotent by application id, processed 受付 → 処理中 → 完了 (docs/domain.md §5 F1, §6.11).

The filing window depends on the target's today (in Japan): the tests take it from the target's
own responses and file again when a filing crossed midnight (JST)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from meshcert_suites.resident_registry.builders import (
    examples,
    fresh_id,
    moveout_notice,
    person,
    target_today,
)

ACCEPTED = (200, 201, 202)


# -- MOVEOUT-WINDOW-001 -----------------------------------------------------------------------


@pytest.mark.requirement("MOVEOUT-WINDOW-001")
@examples(6)
@given(offset=st.integers(-45, 45))
@example(offset=-11)
@example(offset=-10)
@example(offset=-14)
@example(offset=0)
@example(offset=30)
@example(offset=31)
def test_an_online_move_out_is_accepted_only_from_30_days_before_to_10_days_after(
        clerk, offset):
    [applicant] = clerk.admit(person("高木", "学", "02", kana=("タカギ", "マナブ")),
                              on=clerk.today() - timedelta(days=60))  # one filing each
    for _ in range(3):
        today = clerk.today()
        moving = today + timedelta(days=offset)
        response = clerk.file_moveout(moveout_notice(applicant, moving,
                                                     destination=clerk.destination()))
        if target_today(response) == today:
            break  # else the filing crossed midnight in Japan: file again on the new day
    when = (f"{moving} filed online on {today}, "
            + (f"{-offset} days after the move" if offset < 0 else
               f"{offset} days before the move"))
    if -10 <= offset <= 30:
        assert response.status_code in ACCEPTED, (
            f"a move on {when}, is inside the window (30 days before to 10 days after) but was "
            f"refused with {response.status_code}: {response.text[:300]}")
    else:
        assert response.status_code == 422, (
            f"a move on {when}, is outside the window (30 days before to 10 days after) but "
            f"was answered {response.status_code}, not refused with 422: "
            f"{response.text[:300]}")


# -- MOVEOUT-DOMESTIC-001 ---------------------------------------------------------------------


@pytest.mark.requirement("MOVEOUT-DOMESTIC-001")
@examples(4)
@given(country=st.sampled_from(["US", "KR", "CN", "TW", "PH", "VN", "BR", "FR", "DE", "GB"]))
@example(country="US")
def test_an_online_move_out_abroad_is_refused(clerk, applicant, country):
    notice = moveout_notice(applicant, clerk.today(), destination=clerk.destination(),
                            country=country)
    response = clerk.file_moveout(notice)
    assert response.status_code == 422, (
        f"an online move-out to the country {country} was answered {response.status_code}, "
        f"not refused with 422 (a move abroad is notified at the counter): "
        f"{response.text[:300]}")
    status = clerk.client.get(f"{clerk.base}/moveout-notifications/{notice['application_id']}")
    assert status.status_code == 404, (
        f"the refused move-out abroad {notice['application_id']} was kept as an application: "
        f"{status.text[:300]}")


@pytest.mark.requirement("MOVEOUT-DOMESTIC-001")
def test_an_online_move_out_within_japan_is_accepted(clerk, applicant):
    response = clerk.file_moveout(moveout_notice(applicant, clerk.today(),
                                                 destination=clerk.destination(), country="JP"))
    assert response.status_code in ACCEPTED, (
        f"an online move-out within Japan was refused with {response.status_code}: "
        f"{response.text[:300]}")


# -- MOVEOUT-IDEM-001 -------------------------------------------------------------------------


@pytest.mark.requirement("MOVEOUT-IDEM-001")
def test_a_resent_notification_returns_the_same_application(clerk, applicant):
    notice = moveout_notice(applicant, clerk.today() + timedelta(days=7),
                            destination=clerk.destination())
    first = clerk.file_moveout(notice)
    again = clerk.file_moveout(notice)
    assert first.status_code in ACCEPTED, (
        f"a valid move-out notification was refused with {first.status_code}: "
        f"{first.text[:300]}")
    assert again.status_code in ACCEPTED, (
        f"resending the notification {notice['application_id']} unchanged (as after a "
        f"timeout) was answered {again.status_code}, not with the same application: "
        f"{again.text[:300]}")
    fields = ("application_id", "status", "atena_numbers", "moving_date", "received_at")
    before = {k: first.json().get(k) for k in fields}
    after = {k: again.json().get(k) for k in fields}
    assert before == after, (
        f"resending the notification {notice['application_id']} gave another application: "
        f"first {before}, resent {after}")


@pytest.mark.requirement("MOVEOUT-IDEM-001")
def test_the_same_application_id_with_another_body_is_refused(clerk, applicant):
    notice = moveout_notice(applicant, clerk.today() + timedelta(days=7),
                            destination=clerk.destination())
    first = clerk.file_moveout(notice)
    assert first.status_code in ACCEPTED, (
        f"a valid move-out notification was refused with {first.status_code}: "
        f"{first.text[:300]}")
    changed = {**notice, "moving_date": (clerk.today() + timedelta(days=8)).isoformat()}
    response = clerk.file_moveout(changed)
    assert response.status_code == 409, (
        f"the application id {notice['application_id']} sent again with another moving date "
        f"was answered {response.status_code}, not refused with 409: {response.text[:300]}")
    status = clerk.client.get(f"{clerk.base}/moveout-notifications/{notice['application_id']}")
    assert status.json().get("moving_date") == notice["moving_date"], (
        f"the application now has the moving date {status.json().get('moving_date')}, not the "
        f"first one {notice['moving_date']}")


# -- MOVEOUT-STATUS-001 -----------------------------------------------------------------------


@pytest.mark.requirement("MOVEOUT-STATUS-001")
def test_the_status_moves_received_processing_done_in_that_order_only(clerk, client_with):
    head, spouse = clerk.admit(person("松田", "進", "02", kana=("マツダ", "ススム")),
                               person("松田", "恵", "12", kana=("マツダ", "メグミ"), sex="2"),
                               on=clerk.today() - timedelta(days=60))
    notice = moveout_notice(head, clerk.today() + timedelta(days=3),
                            destination=clerk.destination(),
                            companions=[spouse["juminhyo_code"]])
    front = client_with("moveout:submit")
    url = f"{clerk.base}/moveout-notifications/{notice['application_id']}"
    filed = clerk.file_moveout(notice, client=front)
    assert filed.status_code in ACCEPTED, (
        f"a valid move-out notification of a couple was refused with {filed.status_code}: "
        f"{filed.text[:300]}")

    def seen() -> str:
        response = front.get(url)
        assert response.status_code == 200, (
            f"the front service could not read the status of {notice['application_id']}: "
            f"{response.status_code} {response.text[:300]}")
        return str(response.json()["status"])

    def advance(to: str) -> int:
        return clerk.client.post(f"{url}/transitions", json={"status": to}).status_code

    assert seen() == "受付", f"a new application has the status {seen()!r}, not 受付"
    skipped = advance("完了")
    assert skipped == 409, (
        f"completing a received application directly (受付 → 完了, skipping 処理中) was "
        f"answered {skipped}, not refused with 409; its status is now {seen()!r}")
    assert seen() == "受付", f"after the refused 受付 → 完了 the status is {seen()!r}, not 受付"
    assert advance("処理中") in (200, 201), "受付 → 処理中 was refused"
    assert seen() == "処理中", f"after 受付 → 処理中 the status is {seen()!r}"
    again = advance("処理中")
    assert again == 409, f"処理中 → 処理中 was answered {again}, not refused with 409"
    assert advance("完了") in (200, 201), "処理中 → 完了 was refused"
    assert seen() == "完了", f"after 処理中 → 完了 the status is {seen()!r}"
    for member in (head, spouse):
        record = clerk.read(member["atena_number"])
        assert record["status"] == "moved-out", (
            f"the move-out of {notice['application_id']} is 完了 but {member['atena_number']} "
            f"still has the status {record['status']!r}, not moved-out")
    after = advance("処理中")
    assert after == 409, f"a completed application went back to 処理中 ({after})"


@pytest.mark.requirement("MOVEOUT-STATUS-001")
def test_an_unknown_application_has_no_status(clerk, client_with):
    response = client_with("moveout:submit").get(
        f"{clerk.base}/moveout-notifications/{fresh_id('none')}")
    assert response.status_code == 404, (
        f"the status of an application never filed was answered {response.status_code}, not "
        f"404: {response.text[:300]}")
