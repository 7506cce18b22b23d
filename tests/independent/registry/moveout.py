"""Online move-out notifications (転出届): filed inside their window, domestic only, idempotent
by application id, processed 受付 → 処理中 → 完了 (完了 moves everyone out)."""

from __future__ import annotations

from typing import Any

from tests.independent.registry import rules
from tests.independent.registry.auth import Caller
from tests.independent.registry.movements import write
from tests.independent.registry.records import broken, day, today
from tests.independent.registry.store import Store, fingerprint, now
from tests.independent.registry.web import Problem

BEFORE_DAYS, AFTER_DAYS = 30, 10  # filed from 30 days before to 10 days after the move
NEXT = {"受付": "処理中", "処理中": "完了"}


def _refuse(detail: str, kind: str = "moveout-refused") -> Problem:
    return Problem(422, kind, "The move-out notification cannot be accepted", detail)


def _person(store: Store, lg: str, code: str) -> dict[str, Any]:
    record = store.by_juminhyo(lg, code)
    if record is None or record["status"] != "resident":
        raise _refuse(f"住民票コード {code} is not a current resident of {lg}")
    return record


def file(store: Store, lg: str, notice: dict[str, Any], caller: Caller,
         request_id: str) -> tuple[int, dict[str, Any]]:
    """(202, the new application), or (200, the same one) for an identical resend."""
    kept = store.answer(lg, "moveout", notice["application_id"])
    if kept is not None:
        if kept[0] != fingerprint(notice):
            raise Problem(409, "application-id-reused", "This application id was filed with "
                          "another body", notice["application_id"])
        return 200, kept[1]
    destination = {"country": "JP", **notice["destination"]}
    if destination["country"] != "JP":
        raise _refuse("a move abroad is notified at the counter, not online", "moveout-abroad")
    if not rules.is_lg_code(destination["lg_code"]):
        raise _refuse(f"destination lg_code {destination['lg_code']} fails its check digit",
                      "invalid-lg-code")
    moving = day(notice["moving_date"], "moving_date")
    offset = (moving - today()).days
    latest = BEFORE_DAYS + (1 if broken("moveout-window") else 0)
    if not -AFTER_DAYS <= offset <= latest:
        raise _refuse(f"a move on {moving} is outside the filing window (30 days before to "
                      f"10 days after the move)", "outside-filing-window")
    applicant = notice["applicant"]
    head = _person(store, lg, applicant["juminhyo_code"])
    if (head["name"]["surname"], head["name"]["given_name"], head["birth_date"]["iso"]) != (
            applicant["surname"], applicant["given_name"], applicant["birth_date"]):
        raise _refuse("the applicant's name or birth date does not match the register")
    movers = [head] + [_person(store, lg, c) for c in dict.fromkeys(notice.get("companions", []))]
    if any(m["setai_number"] != head["setai_number"] for m in movers):
        raise _refuse("companions must be members of the applicant's household")
    stamp = now()
    state = {"application_id": notice["application_id"], "lg_code": lg, "status": "受付",
             "atena_numbers": list(dict.fromkeys(m["atena_number"] for m in movers)),
             "moving_date": moving.isoformat(), "destination": destination, "event_id": None,
             "received_at": stamp, "updated_at": stamp}
    with store.transaction():
        store.keep(lg, "moveout", notice["application_id"], fingerprint(notice), state)
        for atena in state["atena_numbers"]:
            store.log(lg, caller.operator, "moveout.receive", atena, False, request_id)
    return 202, state


def status(store: Store, lg: str, application_id: str) -> dict[str, Any]:
    return _kept(store, lg, application_id)[1]


def _kept(store: Store, lg: str, application_id: str) -> tuple[str, dict[str, Any]]:
    """(the filing's fingerprint, the application's state now)."""
    kept = store.answer(lg, "moveout", application_id)
    if kept is None:
        raise Problem(404, "application-not-found", "No such move-out application",
                      application_id)
    return kept


def advance(store: Store, lg: str, application_id: str, to: str, caller: Caller,
            request_id: str) -> dict[str, Any]:
    """受付 → 処理中 → 完了, in that order only; 完了 ends everyone's residence."""
    body_print, state = _kept(store, lg, application_id)
    if NEXT.get(state["status"]) != to:
        raise Problem(409, "invalid-transition", "The status cannot move that way",
                      f"{state['status']} → {to}: the order is 受付 → 処理中 → 完了")
    with store.transaction():
        if to == "完了":
            event_id = f"moveout-{application_id}"
            destination = state["destination"]
            leaving = [r for a in state["atena_numbers"]
                       if (r := store.resident(lg, a)) is not None and r["status"] == "resident"]
            touched = {r["setai_number"] for r in leaving}
            for record in leaving:
                record["status"] = "moved-out"
                record["departure"] = {"departed_on": state["moving_date"],
                                       "destination": destination["address"],
                                       "destination_lg_code": destination["lg_code"],
                                       "abroad": False}
            dates = {"notified": state["received_at"][:10], "processed": today().isoformat()}
            write(store, lg, "move-out", event_id, leaving, dates, caller, request_id, touched)
            state["event_id"] = event_id
        state = {**state, "status": to, "updated_at": now()}
        store.keep(lg, "moveout", application_id, body_print, state)
        store.log(lg, caller.operator, f"moveout.{to}", application_id, False, request_id)
    return state
