"""Request bodies for the resident-registry API, with sensible defaults to override."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

LG = "131016"
ADDRESS = {"lg_code": LG, "machiaza_id": "0010002", "prefecture": "東京都", "city": "千代田区",
           "town": "霞が関二丁目", "banchi": "1-6", "building": None}


def person(surname: str = "山田", given: str = "太郎", relationship: str = "02", *,
           kana: tuple[str, str] = ("ヤマダ", "タロウ"), sex: str = "1",
           birth: dict[str, Any] | None = None, my_number: str | None = None,
           juminhyo_code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": {"surname": surname, "given_name": given, "surname_kana": kana[0],
                 "given_name_kana": kana[1]},
        "sex": sex, "birth_date": birth or {"iso": "1980-05-01"}, "relationship": relationship}
    if my_number:
        body["my_number"] = my_number
    if juminhyo_code:
        body["juminhyo_code"] = juminhyo_code
    return body


def move_in(*persons: dict[str, Any], on: date | None = None, event_id: str | None = None,
            setai_number: str | None = None) -> dict[str, Any]:
    on = on or date(2026, 11, 20)
    movement: dict[str, Any] = {
        "kind": "move-in", "event_date": on.isoformat(),
        "notified_date": (on + timedelta(days=1)).isoformat(),
        "persons": list(persons) or [person()], "address": ADDRESS}
    if event_id:
        movement["event_id"] = event_id
    if setai_number:
        movement["setai_number"] = setai_number
    return {"movement": movement}


def movement(kind: str, on: date | None = None, **fields: Any) -> dict[str, Any]:
    on = on or date(2026, 11, 20)
    return {"movement": {"kind": kind, "event_date": on.isoformat(),
                         "notified_date": on.isoformat(), **fields}}
