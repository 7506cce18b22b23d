"""Races, not only resends: identical requests sent at the same moment are processed once.

A front service or a standard system that times out resends; with several workers, the resends
can arrive together. Eight identical movements (one event_id) or move-out notifications (one
application_id) sent at once must leave one result — one set of records, one feed entry per
record, one intake in the log — and every sender gets that same answer (the contract: 201/202
for the request that did it, 200 for the others).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest

from meshcert_suites.resident_registry.builders import arrival, fresh_id, moveout_notice, person

SENDERS = 8
LOG = "audit-log"


def at_once(harness, request, path: str, body: dict[str, Any]) -> list[httpx.Response]:
    """POST ``body`` to ``path`` from SENDERS clients released together (each with its own
    connection, already open, and its own X-Request-ID)."""
    clients = [harness.client(recorder=harness.recorder_for(request.node))
               for _ in range(SENDERS)]
    answers: list[httpx.Response | BaseException | None] = [None] * SENDERS
    gate = threading.Barrier(SENDERS)

    def send(index: int) -> None:
        try:
            clients[index].get("/health")  # connect first: the race is between the requests
            gate.wait(timeout=30)
            answers[index] = clients[index].post(path, json=body,
                                                 headers={"X-Request-ID": fresh_id("race")})
        except BaseException as exc:  # reported below, with the other answers
            answers[index] = exc

    threads = [threading.Thread(target=send, args=(i,), name=f"race-{i}")
               for i in range(SENDERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for client in clients:
            client.close()
    failed = [a for a in answers if not isinstance(a, httpx.Response)]
    assert not failed, f"of {SENDERS} identical requests sent at once, some got no answer: " \
                       f"{failed[:3]}"
    return [a for a in answers if isinstance(a, httpx.Response)]


def check_one_created(answers: list[httpx.Response], created: int, what: str) -> None:
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {created, 200}, (
        f"{SENDERS} identical {what} sent at once were answered {dict(statuses)}: every one "
        f"must be answered {created} (did it) or 200 (already done); first odd answer: "
        f"{next(a.text[:300] for a in answers if a.status_code not in (created, 200))}")
    assert statuses[created] == 1, (
        f"{SENDERS} identical {what} sent at once were answered {dict(statuses)}: exactly one "
        f"may be {created} (processed); the others are answered from it with 200")


def same_answers(answers: list[httpx.Response], fields: tuple[str, ...], what: str
                 ) -> dict[str, Any]:
    seen = [{k: a.json().get(k) for k in fields} for a in answers]
    distinct = {repr(s) for s in seen}
    assert len(distinct) == 1, (
        f"{SENDERS} identical {what} sent at once got {len(distinct)} different answers "
        f"(processed more than once): {sorted(distinct)[:3]}")
    return seen[0]


@pytest.mark.requirement("MOVE-IDEM-001")
def test_identical_movements_sent_at_once_are_applied_once(clerk, harness, request):
    body = arrival(clerk.lg, person("競", "一", "02", kana=("キソイ", "ハジメ")),
                   person("競", "二葉", "12", kana=("キソイ", "フタバ"), sex="2"),
                   on=clerk.today() - timedelta(days=4), event_id=fresh_id("race"))
    start, audit_start = clerk.end(), clerk.end(LOG)
    answers = at_once(harness, request, f"{clerk.base}/movements", body)
    check_one_created(answers, 201, "movements (one event_id)")
    result = same_answers(answers, ("event_id", "affected", "recorded_at"), "movements")
    atenas = sorted(r["atena_number"] for r in result["affected"])
    fed = Counter(e["atena_number"] for e in clerk.changes_after(start)
                  if e["event_id"] == body["movement"]["event_id"])
    assert fed == Counter(atenas), (
        f"the movement {body['movement']['event_id']} sent {SENDERS} times at once changed "
        f"{atenas}, but the feed has entries {dict(fed)} (one per changed record expected)")
    logged = Counter(e["target"] for e in clerk.changes_after(audit_start, path=LOG)
                     if e.get("target") in atenas)
    assert logged == Counter(atenas), (
        f"the movement sent {SENDERS} times at once left the log entries {dict(logged)} about "
        f"its records {atenas}: one each expected")
    for record in result["affected"]:  # its 住民票コード as recorded (ID-JUMIN-001 checks it)
        found = clerk.find(record["juminhyo_code"])
        assert found.status_code == 200 and found.json().get("atena_number") == \
            record["atena_number"], (
            f"after the race, 住民票コード {record['juminhyo_code']} finds {found.text[:200]}, "
            f"not the record {record['atena_number']} of the answer")


@pytest.mark.requirement("MOVEOUT-IDEM-001")
def test_identical_notifications_sent_at_once_make_one_application(clerk, harness, request,
                                                                  applicant):
    notice = moveout_notice(applicant, clerk.today() + timedelta(days=5),
                            destination=clerk.destination())
    audit_start = clerk.end(LOG)
    answers = at_once(harness, request, f"{clerk.base}/moveout-notifications", notice)
    check_one_created(answers, 202, "move-out notifications (one application_id)")
    same_answers(answers, ("application_id", "status", "atena_numbers", "moving_date",
                           "received_at"), "move-out notifications")
    ids = {a.request.headers["x-request-id"] for a in answers}
    logged = Counter(e.get("request_id") for e in clerk.changes_after(audit_start, path=LOG)
                     if e.get("request_id") in ids)
    assert len(logged) <= 1, (
        f"{len(logged)} of the {SENDERS} identical notifications sent at once left entries in "
        f"the operation log ({dict(logged)}): the intake was processed more than once")
