"""Resident records: made from what a movement or a seed gives, and served to a caller."""

from __future__ import annotations

import copy
import os
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from tests.independent.registry import rules
from tests.independent.registry.store import Store, now
from tests.independent.registry.web import Problem

JST = timezone(timedelta(hours=9))
LABELS = {"02": "世帯主", "11": "夫", "12": "妻", "20": "子", "31": "父", "32": "母",
          "40": "兄弟姉妹", "50": "孫", "60": "祖父母", "99": "その他"}


def broken(name: str) -> bool:
    """Whether this process runs with the named defect (the negative controls of
    tests/independent/test_registry.py): INDEPENDENT_REGISTRY_BROKEN=name[,name]."""
    return name in os.environ.get("INDEPENDENT_REGISTRY_BROKEN", "").split(",")


def today() -> date:
    """The register's calendar day is Japan's."""
    return datetime.now(UTC).astimezone(JST).date()


def day(value: str | None, what: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise Problem(422, "invalid-date", f"{what} is not a calendar date", str(value)) from None


def relationship(code: str) -> dict[str, str]:
    return {"code": code, "label": LABELS[code]}


def birth_date(given: dict[str, Any]) -> dict[str, Any]:
    try:
        return rules.wire_date(given)
    except ValueError as exc:
        raise Problem(422, "invalid-date", "The birth date cannot be read", str(exc)) from None


def fresh(store: Store, column: str, make: Any) -> str:
    """A new number held by nobody in the register."""
    while store.taken(column, number := make()):
        pass
    return str(number)


def new_record(store: Store, lg: str, person: dict[str, Any], setai: str,
               address: dict[str, Any], dates: dict[str, str]) -> dict[str, Any]:
    my_number = person.get("my_number") or fresh(store, "my_number", rules.new_my_number)
    return {
        "lg_code": lg, "atena_number": fresh(store, "atena", lambda: rules.new_mod11(10)),
        "setai_number": setai,
        "juminhyo_code": person.get("juminhyo_code") or rules.new_mod11(11),
        "my_number": my_number, "name": person["name"], "sex": person["sex"],
        "former_surname": person.get("former_surname"),
        "birth_date": birth_date(person["birth_date"]),
        "relationship": relationship(person["relationship"]), "address": address,
        "dates": dates, "status": "resident", "departure": None, "version": 0,
        "updated_at": now()}


def seeded(lg: str, given: dict[str, Any]) -> dict[str, Any]:
    """A record as the harness seeds it (a population generator line)."""
    return {**given, "lg_code": lg, "birth_date": birth_date(given["birth_date"]),
            "relationship": relationship(given["relationship"]),
            "former_surname": given.get("former_surname"), "status": given.get(
                "status", "resident"), "departure": None, "version": 1, "updated_at": now()}


def served(record: dict[str, Any], sees_my_number: bool) -> dict[str, Any]:
    """A record as this caller may see it: the My Number only with registry:read-mynumber."""
    shown = copy.deepcopy(record)
    if not sees_my_number:
        number = shown.pop("my_number", None)
        if broken("mynumber-in-free-text") and number:
            # The defect: a clerk's note kept in the building line, the number written the
            # way people write it (full-width digits in groups of four).
            wide = str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
            shown["address"]["building"] = f"個人番号 {wide[:4]}-{wide[4:8]}-{wide[8:]}"
    return shown
