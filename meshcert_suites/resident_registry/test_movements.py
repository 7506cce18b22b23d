"""Movement events (異動): their dates kept, a resend never applied twice, a refused movement
changing nothing, one head per household (住民基本台帳法; 住民記録システム標準仕様書)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from meshcert_suites.resident_registry.builders import (
    arrival,
    examples,
    fresh_id,
    juminhyo_code,
    movement,
    my_number,
    person,
)


def couple(surname: str = "加藤", kana: str = "カトウ") -> list[dict[str, Any]]:
    return [person(surname, "一郎", "02", kana=(kana, "イチロウ")),
            person(surname, "花子", "12", kana=(kana, "ハナコ"), sex="2")]


def heads(household: dict[str, Any]) -> list[str]:
    return [m["atena_number"] for m in household["members"] if m["relationship"]["code"] == "02"]


# -- MOVE-DATES-001 ---------------------------------------------------------------------------


@pytest.mark.requirement("MOVE-DATES-001")
@examples(6)
@given(days_ago=st.integers(30, 4000), notice_after=st.integers(0, 14),
       processed_after=st.integers(1, 14))
@example(days_ago=30, notice_after=14, processed_after=1)
def test_a_move_in_keeps_its_event_notified_and_processed_dates(clerk, days_ago, notice_after,
                                                                processed_after):
    event = clerk.today() - timedelta(days=days_ago)
    notified = event + timedelta(days=notice_after)
    processed = notified + timedelta(days=processed_after)
    result = clerk.apply(arrival(clerk.lg, *couple(), on=event, notified=notified,
                                 processed=processed))
    sent = {"event_date": event, "notified_date": notified, "processed_date": processed}
    kept = {k: result.get(k) for k in sent}
    assert kept == {k: v.isoformat() for k, v in sent.items()}, (
        f"the move-in result gives the dates {kept}, not those sent: "
        f"{ {k: v.isoformat() for k, v in sent.items()} }")
    expected = {"became_resident": event.isoformat(), "address_fixed": event.isoformat(),
                "notified": notified.isoformat(), "processed": processed.isoformat()}
    for record in result["affected"]:
        stored = clerk.read(record["atena_number"])["dates"]
        assert stored == expected, (
            f"the record {record['atena_number']} of a move-in on {event}, notified {notified}, "
            f"processed {processed} holds the dates {stored}, not {expected}")


@pytest.mark.requirement("MOVE-DATES-001")
def test_a_move_within_sets_the_address_fixed_notified_and_processed_dates(clerk):
    today = clerk.today()
    arrived = today - timedelta(days=90)
    head, spouse = clerk.admit(*couple(), on=arrived)
    event, notified, processed = (today - timedelta(days=20), today - timedelta(days=12),
                                  today - timedelta(days=5))
    clerk.apply(movement("move-within", on=event, event_id=fresh_id("within"),
                         setai_number=head["setai_number"], notified_date=notified.isoformat(),
                         processed_date=processed.isoformat(),
                         address={**head["address"], "banchi": "7-3"}))
    expected = {"became_resident": arrived.isoformat(), "address_fixed": event.isoformat(),
                "notified": notified.isoformat(), "processed": processed.isoformat()}
    for record in (head, spouse):
        stored = clerk.read(record["atena_number"])["dates"]
        assert stored == expected, (
            f"after a move within the municipality on {event}, notified {notified}, processed "
            f"{processed}, the record {record['atena_number']} (resident since {arrived}) holds "
            f"the dates {stored}, not {expected}")


@pytest.mark.requirement("MOVE-DATES-001")
def test_the_processed_date_defaults_to_the_day_the_register_processes_it(clerk):
    before = clerk.today()
    event = before - timedelta(days=10)
    response = clerk.move(arrival(clerk.lg, *couple(), on=event,
                                  notified=event + timedelta(days=2)))
    assert response.status_code in (200, 201), (
        f"a valid move-in without processed_date was refused with {response.status_code}: "
        f"{response.text[:400]}")
    after = clerk.today()
    processed = response.json()["processed_date"]
    assert processed in {before.isoformat(), after.isoformat()}, (
        f"a movement sent without processed_date on {before} (JST) was given the processed date "
        f"{processed}")
    for record in response.json()["affected"]:
        stored = clerk.read(record["atena_number"])["dates"]
        assert (stored["notified"], stored["processed"]) == (
            (event + timedelta(days=2)).isoformat(), processed), (
            f"the record {record['atena_number']} holds notified {stored['notified']} and "
            f"processed {stored['processed']}, not {event + timedelta(days=2)} and {processed}")


# -- MOVE-IDEM-001 ----------------------------------------------------------------------------


def check_same_result(first: dict[str, Any], again: Any, what: str) -> None:
    assert again.status_code in (200, 201), (
        f"resending the {what} with the same event_id was answered {again.status_code}: "
        f"{again.text[:400]}")
    atenas = [r["atena_number"] for r in first["affected"]]
    resent = [r["atena_number"] for r in again.json()["affected"]]
    assert (again.json()["event_id"], resent) == (first["event_id"], atenas), (
        f"resending the {what} {first['event_id']} gave the records {resent}, not the first "
        f"result's {atenas}: the movement was applied twice")


@pytest.mark.requirement("MOVE-IDEM-001")
def test_a_resent_movement_is_not_applied_twice(clerk):
    body = arrival(clerk.lg, person("吉田", "勇", "02", kana=("ヨシダ", "イサム")),
                   on=clerk.today() - timedelta(days=6))
    start = clerk.end()
    first = clerk.apply(body)
    again = clerk.move(body)
    check_same_result(first, again, "move-in")
    fed = [e for e in clerk.changes_after(start) if e["event_id"] == first["event_id"]]
    assert len(fed) == 1, (f"the move-in {first['event_id']} of one person, sent twice, yields "
                           f"{len(fed)} feed entries")
    kept = first["affected"][0]["juminhyo_code"]  # as recorded (ID-JUMIN-001 checks it is kept)
    found = clerk.find(kept).json()
    assert found.get("atena_number") == first["affected"][0]["atena_number"], (
        f"after the resend, 住民票コード {kept} finds {found}, not the resident "
        f"{first['affected'][0]['atena_number']} of the first result")


@pytest.mark.requirement("MOVE-IDEM-001")
def test_a_resent_birth_does_not_issue_a_second_my_number(clerk):
    head, _ = clerk.admit(*couple("松本", "マツモト"))
    born = clerk.today() - timedelta(days=2)
    body = movement("birth", on=born, event_id=fresh_id("birth"), setai_number=head["setai_number"],
                    person=person("松本", "結衣", "20", kana=("マツモト", "ユイ"), sex="2",
                                  birth={"iso": born.isoformat()}))
    first = clerk.apply(body)
    again = clerk.move(body)
    check_same_result(first, again, "birth")
    assert again.json()["affected"][0].get("my_number") == first["affected"][0].get("my_number"), (
        "the resent birth came back with another My Number")
    members = clerk.household(head["setai_number"])["members"]
    assert len(members) == 3, (
        f"after a birth sent twice the household {head['setai_number']} has {len(members)} "
        "members, not 3")


# -- MOVE-ATOMIC-001 --------------------------------------------------------------------------


def check_nothing_changed(clerk, response: Any, start: int, audit_start: int, event: str,
                          codes: list[str], what: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{what} was answered {response.status_code}, not refused: {response.text[:400]}")
    for code in codes:
        found = clerk.find(code)
        assert found.status_code == 404, (
            f"{what} was refused ({response.status_code}) but the person with 住民票コード {code} "
            f"was registered anyway: {found.text[:300]}")
    fed = [e["atena_number"] for e in clerk.changes_after(start) if e["event_id"] == event]
    assert not fed, (f"{what} was refused but the feed carries its changes to the records {fed}")
    request_id = response.request.headers["x-request-id"]
    logged = [f"{e['seq']} {e['action']} {e['target']}"
              for e in clerk.changes_after(audit_start, path="audit-log")
              if e.get("request_id") == request_id]
    assert not logged, (f"{what} was refused but the operation log recorded changes of it: "
                        f"{logged[:5]}")


@pytest.mark.requirement("MOVE-ATOMIC-001")
def test_a_movement_refused_for_one_person_changes_nothing(clerk):
    taken = my_number()
    clerk.admit(person("山本", "剛", "02", kana=("ヤマモト", "ツヨシ"), my_number=taken))
    start, audit_start = clerk.end(), clerk.end("audit-log")
    first, second = juminhyo_code(), juminhyo_code()
    event = fresh_id("in")
    body = arrival(clerk.lg,
                   person("井上", "新", "02", kana=("イノウエ", "アラタ"), juminhyo_code=first,
                          my_number=my_number()),
                   person("井上", "澪", "12", kana=("イノウエ", "ミオ"), sex="2",
                          juminhyo_code=second, my_number=taken),  # already a resident's
                   on=clerk.today() - timedelta(days=4), event_id=event)
    response = clerk.move(body, **{"X-Request-ID": fresh_id("atomic")})
    check_nothing_changed(clerk, response, start, audit_start, event, [first, second],
                          "a move-in whose second person holds a current resident's My Number")


@pytest.mark.requirement("MOVE-ATOMIC-001")
def test_a_household_move_out_refused_for_one_member_changes_nothing(clerk):
    _, spouse = clerk.admit(*couple("清水", "シミズ"))
    departed = clerk.admit(person("清水", "元", "02", kana=("シミズ", "ハジメ")))[0]
    clerk.apply(movement("death", on=clerk.today() - timedelta(days=1), event_id=fresh_id("d"),
                         atena_number=departed["atena_number"]))
    start, audit_start = clerk.end(), clerk.end("audit-log")
    event = fresh_id("out")
    response = clerk.move(movement(
        "move-out", on=clerk.today(), event_id=event, destination="大阪府大阪市北区",
        destination_lg_code=clerk.destination(),
        atena_numbers=[spouse["atena_number"], departed["atena_number"]]),
        **{"X-Request-ID": fresh_id("atomic")})
    check_nothing_changed(clerk, response, start, audit_start, event, [],
                          "a move-out of two people, one of them no longer a resident")
    assert clerk.read(spouse["atena_number"])["status"] == "resident", (
        f"the refused move-out still removed {spouse['atena_number']} from the register")


# -- MOVE-HEAD-001 ----------------------------------------------------------------------------


@pytest.mark.requirement("MOVE-HEAD-001")
@examples(5)
@given(codes=st.lists(st.sampled_from(["02", "12", "20", "31"]), min_size=1, max_size=3).filter(
    lambda c: c.count("02") != 1))
@example(codes=["20"])
@example(codes=["02", "02"])
def test_a_new_household_needs_exactly_one_head(clerk, codes):
    people = [person("岡田", f"{'一二三'[i]}", code, kana=("オカダ", "ハジメ"))
              for i, code in enumerate(codes)]
    response = clerk.move(arrival(clerk.lg, *people, on=clerk.today() - timedelta(days=3)))
    assert 400 <= response.status_code < 500, (
        f"a new household with the 続柄 {codes} ({codes.count('02')} heads) was answered "
        f"{response.status_code}, not refused: {response.text[:300]}")


@pytest.mark.requirement("MOVE-HEAD-001")
def test_a_person_joining_a_household_cannot_be_a_second_head(clerk):
    head, _ = clerk.admit(*couple("前田", "マエダ"))
    code = juminhyo_code()
    response = clerk.move(arrival(clerk.lg, person("前田", "父", "02", kana=("マエダ", "チチ"),
                                                   juminhyo_code=code),
                                  on=clerk.today() - timedelta(days=2),
                                  setai_number=head["setai_number"]))
    assert 400 <= response.status_code < 500, (
        f"a person joining the household {head['setai_number']} as a second head (続柄 02) was "
        f"answered {response.status_code}, not refused: the household now has the heads "
        f"{heads(clerk.household(head['setai_number']))}")


@pytest.mark.requirement("MOVE-HEAD-001")
def test_a_newborn_cannot_be_a_second_head(clerk):
    head, _ = clerk.admit(*couple("藤田", "フジタ"))
    born = clerk.today() - timedelta(days=1)
    response = clerk.move(movement("birth", on=born, event_id=fresh_id("birth"),
                                   setai_number=head["setai_number"],
                                   person=person("藤田", "晴", "02", kana=("フジタ", "ハル"),
                                                 birth={"iso": born.isoformat()})))
    assert 400 <= response.status_code < 500, (
        f"a birth into the household {head['setai_number']} as a second head (続柄 02) was "
        f"answered {response.status_code}, not refused: the household now has the heads "
        f"{heads(clerk.household(head['setai_number']))}")


@pytest.mark.requirement("MOVE-HEAD-001")
def test_a_head_change_and_a_merge_leave_exactly_one_head(clerk):
    head, spouse = clerk.admit(*couple("石川", "イシカワ"))
    on = clerk.today() - timedelta(days=1)
    clerk.apply(movement("head-change", on=on, event_id=fresh_id("head"),
                         setai_number=head["setai_number"], new_head=spouse["atena_number"],
                         relationships={head["atena_number"]: "11"}))
    found = heads(clerk.household(head["setai_number"]))
    assert found == [spouse["atena_number"]], (
        f"after the head change to {spouse['atena_number']} the household has the heads {found}")
    [lodger] = clerk.admit(person("石川", "祖父", "02", kana=("イシカワ", "ソフ")),
                           on=date.fromisoformat(head["dates"]["became_resident"]))
    clerk.apply(movement("household-merge", on=on, event_id=fresh_id("merge"),
                         setai_number=lodger["setai_number"],
                         into_setai_number=head["setai_number"]))
    found = heads(clerk.household(head["setai_number"]))
    assert found == [spouse["atena_number"]], (
        f"after another household merged in, the household has the heads {found}, not only "
        f"{spouse['atena_number']}")
