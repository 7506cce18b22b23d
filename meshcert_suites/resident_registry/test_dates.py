"""Dates: 和暦 by the era table (boundary days too), 不詳日 kept as written and flagged, ISO 8601 on
the wire (docs/domain.md §4 Person, §6.8)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from meshcert.checks.public_rules import to_wareki
from meshcert_suites.resident_registry.builders import arrival, examples, fresh_id, movement, person

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def admit_born(clerk, *births: dict[str, Any]) -> tuple[int, Any]:
    """Move in a household whose members have the given birth dates; (status, response)."""
    members = [person("中村", f"{'一二三四'[i]}", "02" if i == 0 else "20",
                      kana=("ナカムラ", "イチ"), birth=birth) for i, birth in enumerate(births)]
    response = clerk.move(arrival(clerk.lg, *members, on=clerk.today() - timedelta(days=7)))
    return response.status_code, response


# -- DATE-ERA-001 -----------------------------------------------------------------------------


@pytest.mark.requirement("DATE-ERA-001")
@examples(8)
@given(day=st.dates(date(1873, 1, 1), date(2025, 12, 31)))
@example(day=date(2019, 4, 30))   # 平成31年4月30日, the last day of 平成
@example(day=date(2019, 5, 1))    # 令和元年5月1日
@example(day=date(1989, 1, 7))    # 昭和64年1月7日
@example(day=date(1989, 1, 8))    # 平成元年1月8日
@example(day=date(1926, 12, 25))  # 昭和元年12月25日 (same-day 改元)
@example(day=date(1912, 7, 30))   # 大正元年7月30日 (same-day 改元)
def test_dates_convert_to_and_from_the_era_by_the_era_table(clerk, day):
    wareki = to_wareki(day).text
    status, response = admit_born(clerk, {"iso": day.isoformat()}, {"text": wareki})
    assert status in (200, 201), (
        f"a move-in with birth dates {day} and {wareki} was refused with {status}: "
        f"{response.text[:400]}")
    by_iso, by_text = response.json()["affected"]
    assert by_iso["birth_date"].get("text") == wareki, (
        f"the birth date {day} was written {by_iso['birth_date'].get('text')!r} in the Japanese "
        f"era, not {wareki!r}")
    assert by_text["birth_date"].get("iso") == day.isoformat(), (
        f"the birth date written {wareki} was read as {by_text['birth_date'].get('iso')!r}, "
        f"not {day.isoformat()}")
    assert by_text["birth_date"].get("uncertain") is False, (
        f"the full date {wareki} was flagged uncertain")


# -- DATE-FUSHOU-001 --------------------------------------------------------------------------

ERA_YEARS = {"明治": (6, 44), "大正": (2, 14), "昭和": (2, 63), "平成": (2, 30)}


@st.composite
def partly_known(draw: st.DrawFn) -> str:
    """A 不詳日 as municipal records write it: a year or month known, roughly or only in part."""
    era = draw(st.sampled_from(sorted(ERA_YEARS)))
    year = f"{era}{draw(st.integers(*ERA_YEARS[era]))}年"
    if draw(st.booleans()):
        return year + draw(st.sampled_from(["", "頃", "月日不詳"]))
    month = f"{draw(st.integers(1, 12))}月"
    return year + month + draw(st.sampled_from(["", "頃", "日不詳", "上旬", "中旬", "下旬"]))


@pytest.mark.requirement("DATE-FUSHOU-001")
@examples(8)
@given(text=partly_known())
@example(text="令和3年頃")
@example(text="昭和50年3月上旬")
@example(text="平成3年2月29日")     # no such day
@example(text="明治45年7月30日")    # written in 明治 on the first day of 大正
@example(text="大正15年12月25日")   # written in 大正 on the first day of 昭和
@example(text="年月日不詳")
@example(text="昭和５０年３月中旬")  # full-width digits, kept as they are
def test_a_partly_known_birth_date_is_kept_as_written_and_flagged(clerk, text):
    status, response = admit_born(clerk, {"iso": "1970-01-01"},
                                  {"text": text, "uncertain": True})
    assert status in (200, 201), (
        f"a move-in with the partly known birth date {text!r} (不詳日) was refused with "
        f"{status}: {response.text[:400]}")
    unknown = response.json()["affected"][1]
    stored = clerk.read(unknown["atena_number"])["birth_date"]
    assert stored.get("text") == text, (
        f"the birth date written {text!r} is kept as {stored.get('text')!r}")
    assert stored.get("uncertain") is True, (
        f"the birth date {text!r} is not flagged uncertain: {stored}")
    assert stored.get("iso") is None, (
        f"the partly known birth date {text!r} was given the ISO value {stored.get('iso')!r}")


# -- DATE-ISO-001 -----------------------------------------------------------------------------


def record_dates(record: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    birth = record.get("birth_date") or {}
    for key in ("iso", "earliest", "latest"):
        if birth.get(key) is not None:
            yield f"{where}.birth_date.{key}", birth[key]
    for key, value in (record.get("dates") or {}).items():
        yield f"{where}.dates.{key}", value
    if record.get("departure"):
        yield f"{where}.departure.departed_on", record["departure"].get("departed_on")


def not_iso(fields: Iterator[tuple[str, Any]]) -> list[str]:
    bad = []
    for where, value in fields:
        try:
            ok = isinstance(value, str) and bool(ISO_DATE.fullmatch(value)) and bool(
                date.fromisoformat(value))
        except ValueError:
            ok = False
        if not ok:
            bad.append(f"{where} = {value!r}")
    return bad


@pytest.mark.requirement("DATE-ISO-001")
def test_known_dates_are_sent_as_iso_8601_calendar_dates(clerk):
    start = clerk.end()
    status, response = admit_born(clerk, {"iso": "1989-01-09"}, {"text": "平成10年4月1日"},
                                  {"text": "昭和50年3月15日"})
    assert status in (200, 201), f"the move-in was refused with {status}: {response.text[:400]}"
    arrived = response.json()
    today = clerk.today()
    moved = clerk.apply(movement("move-within", on=today - timedelta(days=2),
                                 event_id=fresh_id("within"),
                                 setai_number=arrived["affected"][0]["setai_number"],
                                 address={**arrived["affected"][0]["address"], "banchi": "4-2"}))
    fields: list[tuple[str, Any]] = []
    for name, result in (("move-in result", arrived), ("move-within result", moved)):
        fields += [(f"{name}.{k}", result.get(k))
                   for k in ("event_date", "notified_date", "processed_date")]
        for record in result["affected"]:
            fields += record_dates(record, f"{name} record {record['atena_number']}")
    for record in arrived["affected"]:
        fields += record_dates(clerk.read(record["atena_number"]),
                               f"resident {record['atena_number']}")
    household = clerk.household(arrived["affected"][0]["setai_number"])
    for record in household["members"]:
        fields += record_dates(record, f"household member {record['atena_number']}")
    for entry in clerk.changes_after(start):
        fields += record_dates(entry["record"], f"feed entry {entry['seq']}")
    bad = not_iso(iter(fields))
    assert not bad, ("these dates are not ISO 8601 calendar dates (YYYY-MM-DD):\n  "
                     + "\n  ".join(bad[:20]))
