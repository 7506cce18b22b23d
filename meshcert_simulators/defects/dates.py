"""Negative controls of dates (DATE-*): an era table a day off, 不詳日 refused, 和暦 on the
wire."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from meshcert_simulators.common.japanese_calendar import (
    EraTable,
    UncertainDate,
    parse_birth_date,
    to_wareki,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import (
    CHANGES,
    MOVEMENTS,
    registry_as,
    rewrite_requests,
    rewrite_responses,
)
from meshcert_simulators.municipal.registry import Registry


def _reiwa_one_day_late() -> EraTable:
    """The shipped era table with 令和 starting on 2019-05-02 (平成 ending a day later)."""
    table = EraTable.load()
    eras = list(table.eras)
    index = next(i for i, era in enumerate(eras) if era.kanji == "令和")
    start = eras[index].start + timedelta(days=1)
    eras[index] = replace(eras[index], start=start)
    eras[index - 1] = replace(eras[index - 1], end=start - timedelta(days=1))
    return replace(table, eras=tuple(eras))


class _ReiwaOneDayLate(Registry):
    eras = _reiwa_one_day_late()


def _birth_dates(movement: dict[str, Any]) -> list[Any]:
    people = movement.get("persons") or [movement.get("person")]
    return [p.get("birth_date") for p in people if isinstance(p, dict)]


def _refuse_uncertain(body: Any) -> Problem | None:
    """Refuse a movement whose birth date is not one known day (the 不詳日 a register holds)."""
    movement = body.get("movement") if isinstance(body, dict) else None
    if not isinstance(movement, dict):
        return None
    for given in _birth_dates(movement):
        if not isinstance(given, dict) or given.get("iso") is not None:
            continue
        try:
            value = parse_birth_date(str(given.get("text", "")))
        except ValueError:
            value = None
        if value is None or isinstance(value, UncertainDate):
            return Problem(422, "invalid-date", "Not a date the register can hold",
                           "birth_date must be a full date (year, month and day)")
    return None


def _wareki(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return to_wareki(date.fromisoformat(value)).abbrev  # R1.05.01
    except ValueError:
        return value


def _wareki_record(record: dict[str, Any]) -> dict[str, Any]:
    birth = record.get("birth_date") or {}
    out = {**record, "birth_date": {k: (_wareki(v) if k in ("iso", "earliest", "latest") else v)
                                    for k, v in birth.items()},
           "dates": {k: _wareki(v) for k, v in (record.get("dates") or {}).items()}}
    if isinstance(record.get("departure"), dict):
        out["departure"] = {**record["departure"],
                            "departed_on": _wareki(record["departure"].get("departed_on"))}
    return out


def _wareki_feed(page: Any) -> Any:
    return {**page, "entries": [{**e, "record": _wareki_record(e["record"])}
                                for e in page.get("entries", [])]}


defect("reiwa-one-day-late", "municipal", "DATE-ERA-001",
       "the era table starts 令和 on 2019-05-02, so 2019-05-01 is written 平成31年5月1日",
       patch=registry_as(_ReiwaOneDayLate))
defect("reject-uncertain-dates", "municipal", "DATE-FUSHOU-001",
       "a movement whose birth date is a 不詳日 (令和3年頃, 平成3年2月29日 …) is refused with 422",
       wrap=rewrite_requests("POST", MOVEMENTS, refuse=_refuse_uncertain))
defect("wareki-on-the-wire", "municipal", "DATE-ISO-001",
       "the difference feed sends the records' dates in 和暦 (R1.05.01) instead of ISO 8601",
       wrap=rewrite_responses("GET", CHANGES, _wareki_feed))
