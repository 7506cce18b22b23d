"""Movement events (異動): each kind changes records; a movement applies whole or not at all,
once per event_id, and leaves every household with exactly one head."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from tests.independent.registry import rules
from tests.independent.registry.auth import Caller
from tests.independent.registry.records import (
    broken,
    day,
    fresh,
    new_record,
    relationship,
    served,
    today,
)
from tests.independent.registry.store import Store, fingerprint, now
from tests.independent.registry.web import Problem

Records = list[dict[str, Any]]


def _refuse(detail: str, status: int = 422, kind: str = "movement-refused") -> Problem:
    return Problem(status, kind, "The movement cannot be applied", detail)


def _resident(store: Store, lg: str, atena: str) -> dict[str, Any]:
    record = store.resident(lg, atena)
    if record is None or record["status"] != "resident":
        raise _refuse(f"宛名番号 {atena} is not a current resident of {lg}")
    return record


def _members(store: Store, lg: str, setai: str) -> Records:
    members = store.household(lg, setai)
    if not members:
        raise _refuse(f"世帯番号 {setai} has no residents in {lg}", 404, "unknown-household")
    return members


def _head_first(members: Records) -> Records:
    return sorted(members, key=lambda r: (r["relationship"]["code"] != "02", r["atena_number"]))


# -- one function per kind: the records as they are after the movement ---------------------------


def _move_in(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
    persons = m["persons"]
    heads = sum(p["relationship"] == "02" for p in persons)
    setai = m.get("setai_number")
    if setai:
        _members(store, lg, setai)
        if heads:
            raise _refuse(f"a person joining household {setai} cannot be a second head (02)")
    elif heads != 1:
        raise _refuse(f"a new household needs exactly one head (続柄 02); {heads} given")
    setai = setai or fresh(store, "setai", lambda: rules.new_mod11(10))
    for column, key in (("juminhyo", "juminhyo_code"), ("my_number", "my_number")):
        given = [p[key] for p in persons if p.get(key)]
        if len(set(given)) != len(given) or any(store.held(column, v) for v in given):
            raise _refuse(f"a {key} of this movement is already a current resident's", 409,
                          "already-resident")
    address = m["address"]
    return [new_record(store, lg, p, setai, address, dict(dates)) for p in persons]


def _birth(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
    members = _head_first(_members(store, lg, m["setai_number"]))
    child = {**m["person"], "my_number": None}  # a newborn is given a new My Number
    if child["relationship"] == "02":
        raise _refuse("a newborn cannot be the head of an existing household (続柄 02)")
    return [new_record(store, lg, child, m["setai_number"], members[0]["address"],
                       dict(dates))]


def _leave(status: str) -> Callable[..., Records]:
    def leave(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
        atenas = m.get("atena_numbers") or [m["atena_number"]]
        code = m.get("destination_lg_code")
        if code and not rules.is_lg_code(code):
            raise _refuse(f"destination_lg_code {code} fails its check digit")
        records = [_resident(store, lg, a) for a in dict.fromkeys(atenas)]
        for record in records:
            record["status"] = status
            if status == "moved-out":
                record["departure"] = {"departed_on": m["event_date"],
                                       "destination": m["destination"],
                                       "destination_lg_code": code,
                                       "abroad": m.get("abroad", False)}
        return records
    return leave


def _move_within(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
    members = _members(store, lg, m["setai_number"])
    for record in members:
        record["address"] = m["address"]
        record["dates"]["address_fixed"] = dates["address_fixed"]
    return members


def _split(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
    records = [_resident(store, lg, a) for a in dict.fromkeys(m["atena_numbers"])]
    setai = fresh(store, "setai", lambda: rules.new_mod11(10))
    for i, record in enumerate(records):
        record["setai_number"] = setai
        code = "02" if i == 0 else ("99" if record["relationship"]["code"] == "02" else
                                    record["relationship"]["code"])
        record["relationship"] = relationship(code)
        record["address"] = m.get("address") or record["address"]
    return records


def _merge(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
    into = _head_first(_members(store, lg, m["into_setai_number"]))
    joining = _members(store, lg, m["setai_number"])
    given = m.get("relationships") or {}
    for record in joining:
        record["setai_number"] = m["into_setai_number"]
        record["relationship"] = relationship(given.get(record["atena_number"], "99"))
        record["address"] = into[0]["address"]
    return joining


def _head_change(store: Store, lg: str, m: dict[str, Any], dates: dict[str, str]) -> Records:
    members = _members(store, lg, m["setai_number"])
    given = m.get("relationships") or {}
    atenas = {r["atena_number"] for r in members}
    if m["new_head"] not in atenas or not set(given) <= atenas:
        raise _refuse(f"the new head and every 続柄 given must be members of {m['setai_number']}")
    for record in members:
        old = record["relationship"]["code"]
        code = "02" if record["atena_number"] == m["new_head"] else given.get(
            record["atena_number"], "99" if old == "02" else old)
        record["relationship"] = relationship(code)
    return members


KINDS: dict[str, Callable[..., Records]] = {
    "move-in": _move_in, "birth": _birth, "move-out": _leave("moved-out"),
    "death": _leave("deceased"), "move-within": _move_within, "household-split": _split,
    "household-merge": _merge, "head-change": _head_change}


# -- applying -------------------------------------------------------------------------------------


def write(store: Store, lg: str, kind: str, event_id: str, records: Records,
          dates: dict[str, str], caller: Caller, request_id: str, touched: set[str]) -> None:
    """Write changed records with one feed entry and one log entry each; then every household
    touched keeps exactly one head, or the whole movement is refused (inside a transaction)."""
    for record in records:
        touched.add(record["setai_number"])
        record["dates"]["notified"], record["dates"]["processed"] = (dates["notified"],
                                                                     dates["processed"])
        record["version"] += 1
        record["updated_at"] = now()
        store.put(record, (kind, event_id))
        store.log(lg, caller.operator, f"movement.{kind}", record["atena_number"], False,
                  request_id)
    for setai in touched:
        members = store.household(lg, setai)
        heads = sum(r["relationship"]["code"] == "02" for r in members)
        if members and heads != 1:
            raise _refuse(f"household {setai} would have {heads} heads (続柄 02), not one")


async def apply(store: Store, lg: str, m: dict[str, Any], caller: Caller,
                request_id: str) -> tuple[int, dict[str, Any]]:
    """Apply a movement; (201, result), or (200, the first result) for a resent event_id."""
    event_id = m.get("event_id") or f"ev-{uuid.uuid4().hex}"
    kept = store.answer(lg, "movement", event_id)
    if broken("movement-race"):
        await asyncio.sleep(0.05)  # the defect: the check and the write are not one step
    if kept is not None:
        if kept[0] != fingerprint(m):
            raise _refuse(f"event_id {event_id} was used for another movement", 409,
                          "event-id-reused")
        return 200, kept[1]
    event = day(m["event_date"], "event_date")
    processed = day(m.get("processed_date") or today().isoformat(), "processed_date")
    dates = {"became_resident": event.isoformat(), "address_fixed": event.isoformat(),
             "notified": day(m["notified_date"], "notified_date").isoformat(),
             "processed": processed.isoformat()}
    with store.transaction():
        changed = KINDS[m["kind"]](store, lg, m, dates)
        touched = {old["setai_number"] for r in changed  # the households they leave, too
                   if (old := store.resident(lg, r["atena_number"])) is not None}
        write(store, lg, m["kind"], event_id, changed, dates, caller, request_id, touched)
        result = {"event_id": event_id, "kind": m["kind"], "lg_code": lg,
                  "event_date": dates["became_resident"], "notified_date": dates["notified"],
                  "processed_date": dates["processed"], "affected": changed,
                  "recorded_at": now()}
        store.keep(lg, "movement", event_id, fingerprint(m), result)
    return 201, result


def shown(result: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return {**result, "affected": [served(r, caller.sees_my_number)
                                   for r in result["affected"]]}
