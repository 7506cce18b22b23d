"""Movement events (異動) applied to the register; each changed record yields one feed entry."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from datetime import date
from typing import Any

from meshcert_simulators.common.japanese_calendar import (
    EraTable,
    date_from_wire,
    date_to_wire,
    parse_birth_date,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.municipal.models import (
    Address,
    Birth,
    Death,
    HeadChange,
    HouseholdMerge,
    HouseholdSplit,
    MoveIn,
    MovementRequest,
    MoveOut,
    MoveWithin,
    NewPerson,
    WireDate,
)
from meshcert_simulators.municipal.registry import Actor, Registry

Movement = MoveIn | Birth | MoveOut | Death | MoveWithin | HouseholdSplit | HouseholdMerge \
    | HeadChange


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def apply_movement(registry: Registry, lg_code: str, request: MovementRequest, raw: bytes,
                   actor: Actor) -> tuple[dict[str, Any], bool]:
    """Apply one movement; returns (result, created). A resent event_id returns the first
    result unchanged, so a caller may retry safely."""
    movement = request.movement
    digest = body_hash(raw)
    event_id = movement.event_id or uuid.uuid4().hex
    with registry.db.transaction() as conn:
        if movement.event_id and (earlier := registry.recall(conn, lg_code, "movement",
                                                             movement.event_id, digest)):
            return earlier, False
        processed = movement.processed_date or registry.today()
        _check_dates(movement.event_date, movement.notified_date, processed, movement.kind)
        affected = _APPLY[type(movement)](registry, conn, lg_code, movement, event_id,
                                          processed, actor)
        for setai in sorted({r["setai_number"] for r in affected}):
            registry.check_one_head(conn, lg_code, setai)
        result = {
            "event_id": event_id, "kind": movement.kind, "lg_code": lg_code,
            "event_date": movement.event_date.isoformat(),
            "notified_date": movement.notified_date.isoformat(),
            "processed_date": processed.isoformat(),
            "affected": [_without_mynumber(r, actor) for r in affected],
            "recorded_at": registry.clock().isoformat(timespec="microseconds"),
        }
        registry.remember(conn, lg_code, "movement", event_id, digest, result)
    return result, True


def canonical_date(given: WireDate, eras: EraTable | None = None) -> dict[str, Any]:
    """The full wire form of a date a sender gave in part; 422 ``invalid-date`` when its parts
    disagree or it is no date the calendar knows. ``eras`` defaults to the shipped table."""
    try:
        value = given.iso if given.iso is not None else parse_birth_date(given.text or "", eras)
        wire = date_to_wire(value, eras)
        sent = {k: v for k, v in given.model_dump(mode="json", exclude_unset=True).items()
                if v is not None}
        date_from_wire({**wire, **sent}, eras)  # raises if any part sent disagrees
    except ValueError as exc:
        raise Problem(422, "invalid-date", "Not a date the register can hold", str(exc)) from None
    return wire


def _without_mynumber(record: dict[str, Any], actor: Actor) -> dict[str, Any]:
    return record if actor.may_read_mynumber else {k: v for k, v in record.items()
                                                    if k != "my_number"}


def _check_dates(event: date, notified: date, processed: date, kind: str) -> None:
    if processed < notified:
        raise Problem(422, "invalid-dates", "Dates out of order",
                      "processed_date must not be before notified_date")
    # A move-out may be notified before it happens; other events are notified afterwards.
    if kind not in ("move-out",) and notified < event:
        raise Problem(422, "invalid-dates", "Dates out of order",
                      f"a {kind} is notified on or after its event_date")


def _current(registry: Registry, conn: sqlite3.Connection, lg_code: str, atena: str
             ) -> dict[str, Any]:
    record = registry.load(conn, lg_code, atena)
    if record["status"] != "resident":
        raise Problem(409, "not-a-resident", "Record is not current",
                      f"宛名番号 {atena} has status {record['status']!r}", atena_number=atena)
    return record


def _members(conn: sqlite3.Connection, lg_code: str, setai: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT record FROM residents WHERE lg_code=? AND setai_number=? AND "
                        "status='resident' ORDER BY atena_number", (lg_code, setai)).fetchall()
    if not rows:
        raise Problem(404, "household-not-found", "No such household",
                      f"no current household with 世帯番号 {setai} in {lg_code}")
    return [json.loads(r[0]) for r in rows]


def _address(address: Address, lg_code: str) -> dict[str, Any]:
    if address.lg_code != lg_code:
        raise Problem(422, "address-outside-municipality", "Address is not in this municipality",
                      f"address.lg_code {address.lg_code} differs from {lg_code}")
    return address.model_dump(mode="json")


def _dates(became: date, fixed: date, notified: date, processed: date) -> dict[str, str]:
    return {"became_resident": became.isoformat(), "address_fixed": fixed.isoformat(),
            "notified": notified.isoformat(), "processed": processed.isoformat()}


def _new_record(registry: Registry, conn: sqlite3.Connection, lg_code: str, person: NewPerson,
                setai: str, address: dict[str, Any], dates: dict[str, str]) -> dict[str, Any]:
    birth = canonical_date(person.birth_date, registry.eras)
    my_number = person.my_number or registry.new_my_number(conn, lg_code)
    if conn.execute("SELECT 1 FROM residents WHERE lg_code=? AND my_number=? AND "
                    "status='resident'", (lg_code, my_number)).fetchone():
        raise Problem(409, "already-resident", "Person already registered here",
                      "a current resident already holds this My Number")
    return {
        "atena_number": registry.next_number(conn, lg_code, "atena"),
        "setai_number": setai,
        "juminhyo_code": person.juminhyo_code or registry.new_juminhyo_code(),
        "my_number": my_number,
        "name": person.name.model_dump(mode="json"),
        "former_surname": person.former_surname,
        "sex": person.sex,
        "birth_date": birth,
        "relationship": person.relationship,
        "address": address,
        "dates": dates,
        "status": "resident",
    }


def _move_in(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: MoveIn,
             event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    address = _address(m.address, lg_code)
    if m.setai_number:
        _members(conn, lg_code, m.setai_number)  # joining: the household must exist
        setai = m.setai_number
    else:
        setai = registry.next_number(conn, lg_code, "setai")
        if sum(p.relationship == "02" for p in m.persons) != 1:
            raise Problem(422, "household-head", "A new household needs one head",
                          "exactly one person must have relationship '02' (世帯主)")
    dates = _dates(m.event_date, m.event_date, m.notified_date, processed)
    out = []
    for person in m.persons:
        record = _new_record(registry, conn, lg_code, person, setai, address, dates)
        out.append(registry.write(conn, lg_code, record, "move-in", event_id, actor))
    return out


def _birth(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: Birth,
           event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    members = _members(conn, lg_code, m.setai_number)
    if m.person.my_number:
        raise Problem(422, "birth-with-mynumber", "A newborn has no My Number yet",
                      "leave my_number out: the municipality assigns it")
    if canonical_date(m.person.birth_date, registry.eras)["iso"] != m.event_date.isoformat():
        raise Problem(422, "invalid-dates", "Birth date differs from the event date",
                      "for a birth, person.birth_date.iso must equal event_date")
    dates = _dates(m.event_date, m.event_date, m.notified_date, processed)
    record = _new_record(registry, conn, lg_code, m.person, m.setai_number,
                         members[0]["address"], dates)
    return [registry.write(conn, lg_code, record, "birth", event_id, actor)]


def leave(registry: Registry, conn: sqlite3.Connection, lg_code: str, atenas: list[str],
           status: str, change: str, event_id: str, actor: Actor, **extra: Any
           ) -> list[dict[str, Any]]:
    if len(set(atenas)) != len(atenas):
        raise Problem(422, "duplicate-person", "A person is listed twice", str(atenas))
    records = [_current(registry, conn, lg_code, a) for a in atenas]
    return [registry.write(conn, lg_code, {**r, "status": status, **extra}, change, event_id,
                           actor) for r in records]


def _move_out(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: MoveOut,
              event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    return leave(registry, conn, lg_code, m.atena_numbers, "moved-out", "move-out", event_id,
                  actor, departure={"departed_on": m.event_date.isoformat(),
                                    "destination": m.destination,
                                    "destination_lg_code": m.destination_lg_code,
                                    "abroad": m.abroad})


def _death(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: Death,
           event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    return leave(registry, conn, lg_code, [m.atena_number], "deceased", "death", event_id, actor)


def _move_within(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: MoveWithin,
                 event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    address = _address(m.address, lg_code)
    return [registry.write(conn, lg_code, {**r, "address": address,
                                           "dates": {**r["dates"],
                                                     "address_fixed": m.event_date.isoformat(),
                                                     "notified": m.notified_date.isoformat(),
                                                     "processed": processed.isoformat()}},
                           "move-within", event_id, actor)
            for r in _members(conn, lg_code, m.setai_number)]


def _split(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: HouseholdSplit,
           event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    records = [_current(registry, conn, lg_code, a) for a in m.atena_numbers]
    if len({r["setai_number"] for r in records}) != 1:
        raise Problem(422, "mixed-households", "Members of different households",
                      "a split takes members of one household")
    remaining = _members(conn, lg_code, records[0]["setai_number"])
    if len(remaining) == len(records):
        raise Problem(409, "split-whole-household", "Nothing would remain",
                      "a split must leave at least one member in the original household")
    if any(r["relationship"]["code"] == "02" for r in records):
        raise Problem(409, "head-cannot-leave", "The head cannot split off",
                      "change the head first (head-change), then split")
    setai = registry.next_number(conn, lg_code, "setai")
    address = _address(m.address, lg_code) if m.address else records[0]["address"]
    out = []
    for index, record in enumerate(records):
        relationship = "02" if index == 0 else record["relationship"]["code"]
        if index and relationship == "02":
            relationship = "99"
        out.append(registry.write(conn, lg_code, {**record, "setai_number": setai,
                                                  "relationship": relationship,
                                                  "address": address},
                                  "household-split", event_id, actor))
    return out


def _merge(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: HouseholdMerge,
           event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    if m.setai_number == m.into_setai_number:
        raise Problem(422, "same-household", "A household cannot merge into itself")
    target = _members(conn, lg_code, m.into_setai_number)
    joining = _members(conn, lg_code, m.setai_number)
    unknown = set(m.relationships) - {r["atena_number"] for r in joining}
    if unknown or "02" in m.relationships.values():
        raise Problem(422, "invalid-relationships", "Relationships do not fit the merge",
                      "give 続柄 only for joining members, and not 02 (the head stays)")
    return [registry.write(conn, lg_code, {**r, "setai_number": m.into_setai_number,
                                           "relationship": m.relationships.get(
                                               r["atena_number"], "99"),
                                           "address": target[0]["address"]},
                           "household-merge", event_id, actor) for r in joining]


def _head_change(registry: Registry, conn: sqlite3.Connection, lg_code: str, m: HeadChange,
                 event_id: str, processed: date, actor: Actor) -> list[dict[str, Any]]:
    members = _members(conn, lg_code, m.setai_number)
    atenas = {r["atena_number"] for r in members}
    if m.new_head not in atenas:
        raise Problem(422, "not-a-member", "New head is not a member",
                      f"{m.new_head} is not a current member of {m.setai_number}")
    if set(m.relationships) - atenas or "02" in m.relationships.values():
        raise Problem(422, "invalid-relationships", "Relationships do not fit the household",
                      "give 続柄 only for members, and not 02 (new_head becomes 02)")
    out = []
    for record in members:
        code = "02" if record["atena_number"] == m.new_head else m.relationships.get(
            record["atena_number"], "99" if record["relationship"]["code"] == "02"
            else record["relationship"]["code"])
        out.append(registry.write(conn, lg_code, {**record, "relationship": code},
                                  "head-change", event_id, actor))
    return out


_APPLY: dict[type, Any] = {
    MoveIn: _move_in, Birth: _birth, MoveOut: _move_out, Death: _death,
    MoveWithin: _move_within, HouseholdSplit: _split, HouseholdMerge: _merge,
    HeadChange: _head_change,
}
