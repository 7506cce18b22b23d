"""Online move-out notifications (転出届) from a front service: intake, status, processing.

Intake is idempotent by application id: the front service may resend after a timeout and gets
the same application back, never a second one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from meshcert_simulators.common.identifiers import is_valid_local_government_code
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.municipal.models import MoveoutNotification
from meshcert_simulators.municipal.movements import body_hash, leave
from meshcert_simulators.municipal.registry import Actor, Registry, to_json

MOVEOUT_SCHEMA = """
CREATE TABLE IF NOT EXISTS moveouts (
    lg_code TEXT NOT NULL,
    application_id TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (lg_code, application_id)
);
"""

# The online filing window: from 30 days before the move to 10 days after it [S].
WINDOW_BEFORE = timedelta(days=30)
WINDOW_AFTER = timedelta(days=10)
NEXT_STATUS = {"受付": "処理中", "処理中": "完了"}


@dataclass(frozen=True)
class MoveoutRules:
    """The rules intake and processing apply; the app keeps one on ``app.state.moveout_rules``
    (so a negative control can replace it from outside)."""

    window_before: timedelta = WINDOW_BEFORE
    window_after: timedelta = WINDOW_AFTER

    def domestic(self, country: str) -> bool:
        return country == "JP"

    def valid_destination(self, destination: str, home: str) -> bool:
        return is_valid_local_government_code(destination) and destination != home

    def may_advance(self, current: str, to: str) -> bool:
        return NEXT_STATUS.get(current) == to


RULES = MoveoutRules()


def _resident_by_juminhyo(conn: Any, lg_code: str, code: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT record FROM residents WHERE lg_code=? AND juminhyo_code=? AND "
                       "status='resident'", (lg_code, code)).fetchone()
    return json.loads(row[0]) if row else None


def receive(registry: Registry, lg_code: str, notice: MoveoutNotification, raw: bytes,
            actor: Actor, rules: MoveoutRules = RULES) -> tuple[dict[str, Any], bool]:
    """Validate and accept a notification; returns (state, created)."""
    digest = body_hash(raw)
    today = registry.today()
    with registry.db.transaction() as conn:
        if earlier := registry.recall(conn, lg_code, "moveout", notice.application_id, digest):
            return _state(conn, lg_code, earlier["application_id"]), False
        if not rules.domestic(notice.destination.country):
            raise Problem(422, "domestic-only", "Online move-out is domestic only",
                          "a move abroad is notified at the counter")
        dest = notice.destination.lg_code
        if not rules.valid_destination(dest, lg_code):
            raise Problem(422, "invalid-destination", "Destination is not another municipality",
                          f"{dest} is not a valid local government code of another municipality")
        start = notice.moving_date - rules.window_before
        end = notice.moving_date + rules.window_after
        if not start <= today <= end:
            raise Problem(422, "outside-filing-window", "Outside the online filing window",
                          f"a move on {notice.moving_date} can be filed online from "
                          f"{start} to {end}; today is {today}",
                          window_start=str(start), window_end=str(end))
        person = _resident_by_juminhyo(conn, lg_code, notice.applicant.juminhyo_code)
        applicant = notice.applicant
        if person is None or (person["name"]["surname"], person["name"]["given_name"],
                               person["birth_date"].get("iso")) != (
                applicant.surname, applicant.given_name, applicant.birth_date.isoformat()):
            raise Problem(422, "applicant-mismatch", "Applicant not found as a resident",
                          "no current resident matches the applicant's 住民票コード, name and "
                          "birth date")
        atenas = [person["atena_number"]]
        for code in notice.companions:
            member = _resident_by_juminhyo(conn, lg_code, code)
            if member is None or member["setai_number"] != person["setai_number"]:
                raise Problem(422, "companion-not-in-household", "Companion not in household",
                              f"住民票コード {code} is not a current member of the applicant's "
                              "household")
            atenas.append(member["atena_number"])
        if len(set(atenas)) != len(atenas):
            raise Problem(422, "duplicate-person", "A person is listed twice")
        stamp = registry.clock().isoformat(timespec="microseconds")
        state = {"application_id": notice.application_id, "lg_code": lg_code, "status": "受付",
                 "atena_numbers": atenas, "moving_date": notice.moving_date.isoformat(),
                 "destination": notice.destination.model_dump(mode="json"),
                 "received_at": stamp, "updated_at": stamp, "event_id": None}
        conn.execute("INSERT INTO moveouts VALUES (?,?,?)",
                     (lg_code, notice.application_id, to_json(state)))
        registry.remember(conn, lg_code, "moveout", notice.application_id, digest,
                          {"application_id": notice.application_id})
        for atena in atenas:
            registry.log(conn, lg_code, actor, "moveout.receive", atena, False)
    return state, True


def _state(conn: Any, lg_code: str, application_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT state FROM moveouts WHERE lg_code=? AND application_id=?",
                       (lg_code, application_id)).fetchone()
    if row is None:
        raise Problem(404, "application-not-found", "No such move-out notification",
                      f"no application {application_id!r} in {lg_code}")
    return json.loads(row[0])


def status(registry: Registry, lg_code: str, application_id: str) -> dict[str, Any]:
    with registry.db.transaction() as conn:
        return _state(conn, lg_code, application_id)


def advance(registry: Registry, lg_code: str, application_id: str, to: str, actor: Actor,
            rules: MoveoutRules = RULES) -> dict[str, Any]:
    """Move an application one step on (受付 → 処理中 → 完了); 完了 removes the records."""
    with registry.db.transaction() as conn:
        state = _state(conn, lg_code, application_id)
        if not rules.may_advance(state["status"], to):
            raise Problem(409, "invalid-transition", "Status cannot change that way",
                          f"{application_id} is {state['status']}; the next status is "
                          f"{NEXT_STATUS.get(state['status'], 'none (it is final)')}",
                          current_status=state["status"])
        stamp = registry.clock().isoformat(timespec="microseconds")
        state = {**state, "status": to, "updated_at": stamp}
        if to == "完了":
            event_id = f"moveout-{application_id}"
            departure = {"departed_on": state["moving_date"],
                         "destination": state["destination"]["address"],
                         "destination_lg_code": state["destination"]["lg_code"],
                         "abroad": False}
            leave(registry, conn, lg_code, state["atena_numbers"], "moved-out", "move-out",
                  event_id, actor, departure=departure)
            state["event_id"] = event_id
        conn.execute("UPDATE moveouts SET state=? WHERE lg_code=? AND application_id=?",
                     (to_json(state), lg_code, application_id))
        registry.log(conn, lg_code, actor, f"moveout.{to}", application_id, False)
    return state
