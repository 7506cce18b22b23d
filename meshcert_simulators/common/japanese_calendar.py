"""Japanese-era (和暦) dates, 不詳日, and the one wire form for dates
(docs/domain.md §4, §6 item 8).

* Era conversion is table-driven: the eras live in ``fixtures/calendar/eras.yaml``; adding an
  era is an edit of that file only.
* Only Gregorian-calendar dates are in scope: from 明治6年1月1日 (1873-01-01, ``gregorian_from``
  in the YAML). Earlier dates were lunisolar and are rejected with a clear error.
* Municipal records hold birth dates that are unknown or partly unknown (不詳日). They are kept
  exactly as written (``UncertainDate.text``), flagged, and given the range of days they could
  denote; they are never rounded to a made-up day.
* On the wire a date is ``{"iso", "uncertain", "text", "earliest", "latest"}``: use
  ``date_to_wire`` / ``date_from_wire`` in every simulator.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from meshcert_simulators.fixtures import fixture_path

DEFAULT_ERAS_PATH = fixture_path("calendar", "eras.yaml")

ACCEPTED_DATE_FORMS = (
    "accepted forms: a full date — 平成31年4月30日, 令和元年5月1日, H31.4.30, R1.05.01, "
    "1989-01-08; or a 不詳日 — 不詳, 令和3年, 令和3年頃, 昭和20年月日不詳, 昭和50年3月, "
    "昭和50年3月日不詳, 昭和50年3月上旬/中旬/下旬, 平成3年2月29日 (no such day), 明治45年7月30日 "
    "(first day of the next era); digits may be full- or half-width"
)

REASONS = (
    "unknown",
    "year-only",
    "month-only",
    "part-of-month",
    "approximate",
    "nonexistent-day",
    "era-boundary",
)
QUALIFIERS = (None, "頃", "上旬", "中旬", "下旬")
_UNKNOWN_TEXTS = frozenset({"不詳", "不明", "年月日不詳", "生年月日不詳"})
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PART_OF_MONTH = {"上旬": (1, 10), "中旬": (11, 20), "下旬": (21, 31)}


# --- the era table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    """One era: names as written, its first day, and its last day (None for the current era)."""

    kanji: str
    romaji: str
    letter: str
    start: date
    end: date | None
    basis: str | None = None

    def gregorian_year(self, year: int) -> int:
        """The Gregorian year of year ``year`` of this era (元年 is 1)."""
        return self.start.year + year - 1

    @property
    def last_year(self) -> int | None:
        """The last era year (e.g. 31 for 平成), None for the current era."""
        return None if self.end is None else self.end.year - self.start.year + 1


@dataclass(frozen=True)
class EraTable:
    """The eras in order, and the first day the converter accepts (1873-01-01)."""

    eras: tuple[Era, ...]
    gregorian_from: date
    source: str = field(default="", compare=False)

    @classmethod
    def load(cls, path: Path | None = None) -> EraTable:
        """Read an era table from YAML; without ``path`` the shipped table (read once, cached).

        Raises ValueError naming the file and the entry when the table is malformed (missing
        field, eras out of order, duplicate names): fix the YAML.
        """
        if path is None:
            return _default_table()
        return _read_table(Path(path))

    def era_of(self, d: date) -> Era:
        """The era ``d`` falls in. Raises ValueError before ``gregorian_from``."""
        _check_in_scope(d, self)
        for era in reversed(self.eras):
            if era.start <= d:
                return era
        raise ValueError(f"{d.isoformat()} is before the first era in {self.source or 'table'}")

    def find(self, name: str) -> Era:
        """The era named by its kanji (令和), romaji (Reiwa, any case) or letter (R, any case)."""
        if not isinstance(name, str):
            raise ValueError(f"era must be text (kanji, romaji or letter), got {name!r}")
        for era in self.eras:
            if name in (era.kanji, era.letter, era.letter.lower()) or (
                name.casefold() == era.romaji.casefold()
            ):
                return era
        known = ", ".join(f"{e.kanji}/{e.romaji}/{e.letter}" for e in self.eras)
        raise ValueError(f"unknown era {name!r}; known eras: {known}")

    def next_era(self, era: Era) -> Era | None:
        """The era after ``era``, None for the current era."""
        index = self.eras.index(era)
        return self.eras[index + 1] if index + 1 < len(self.eras) else None


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")


def _read_table(path: Path) -> EraTable:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("eras"), list) or not raw["eras"]:
        raise ValueError(f"{path}: expected a mapping with a non-empty list 'eras'")
    gregorian_from = _as_date(raw.get("gregorian_from"), f"{path}: gregorian_from")
    entries: list[dict[str, Any]] = raw["eras"]
    eras: list[Era] = []
    for i, entry in enumerate(entries):
        where = f"{path}: eras[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping")
        for key in ("kanji", "romaji", "letter"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ValueError(f"{where}.{key}: required non-empty text")
        if not re.fullmatch(r"[A-Z]", entry["letter"]):
            raise ValueError(f"{where}.letter: one ASCII capital letter, got {entry['letter']!r}")
        start = _as_date(entry.get("start"), f"{where}.start")
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        end = None
        if nxt is not None:
            next_start = _as_date(
                nxt.get("start") if isinstance(nxt, dict) else None, f"{path}: eras[{i + 1}].start"
            )
            if next_start <= start:
                raise ValueError(f"{path}: eras[{i + 1}] must start after eras[{i}] ({start})")
            end = next_start - timedelta(days=1)  # an era ends the day before the next starts
        eras.append(
            Era(entry["kanji"], entry["romaji"], entry["letter"], start, end, entry.get("basis"))
        )
    for attr in ("kanji", "letter"):
        values = [getattr(e, attr) for e in eras]
        if len(set(values)) != len(values):
            raise ValueError(f"{path}: duplicate era {attr} in {values}")
    romaji = [e.romaji.casefold() for e in eras]
    if len(set(romaji)) != len(romaji):
        raise ValueError(f"{path}: duplicate era romaji in {[e.romaji for e in eras]}")
    return EraTable(tuple(eras), gregorian_from, str(path))


@cache
def _default_table() -> EraTable:
    return _read_table(DEFAULT_ERAS_PATH)


def _table(table: EraTable | None) -> EraTable:
    return table if table is not None else _default_table()


def _check_in_scope(d: date, table: EraTable, what: str = "") -> None:
    if d < table.gregorian_from:
        raise ValueError(
            f"{what}{d.isoformat()} is before {table.gregorian_from.isoformat()}, when Japan "
            "adopted the Gregorian calendar (明治6年1月1日); earlier dates are "
            "lunisolar-calendar dates and out of scope"
        )


# --- full dates ------------------------------------------------------------------------------


def _year_text(year: int) -> str:
    return "元" if year == 1 else str(year)


@dataclass(frozen=True)
class WarekiDate:
    """A full date in the Japanese calendar."""

    era: Era
    year: int
    month: int
    day: int

    @property
    def text(self) -> str:
        """As written in records: 令和元年5月1日, 平成31年4月30日 (year 1 is 元年)."""
        return f"{self.era.kanji}{_year_text(self.year)}年{self.month}月{self.day}日"

    @property
    def abbrev(self) -> str:
        """Short form with the era letter: R1.05.01."""
        return f"{self.era.letter}{self.year}.{self.month:02d}.{self.day:02d}"

    def to_date(self) -> date:
        return date(self.era.gregorian_year(self.year), self.month, self.day)


def to_wareki(d: date, table: EraTable | None = None) -> WarekiDate:
    """The Japanese-era date of Gregorian date ``d``.

    Raises ValueError for a date before 1873-01-01 (lunisolar, out of scope) and TypeError for
    anything but a ``date`` (a ``datetime`` too: pass ``.date()`` in the intended time zone).
    """
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    era = _table(table).era_of(d)
    return WarekiDate(era, d.year - era.start.year + 1, d.month, d.day)


def from_wareki(era: str, year: int, month: int, day: int, table: EraTable | None = None) -> date:
    """The Gregorian date of ``era`` ``year``年``month``月``day``日 — strictly.

    ``era`` is the kanji (平成), romaji (Heisei) or letter (H). Raises ValueError, saying why,
    when the era is unknown, the year is past the era's last year (平成32年), the day does not
    exist (平成3年2月29日), or the date lies outside the era (令和元年4月30日,
    明治45年7月30日). Such texts in records are 不詳日: read them with ``parse_birth_date``,
    not here.
    """
    tbl = _table(table)
    e = tbl.find(era)
    for name, value in (("year", year), ("month", month), ("day", day)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {value!r}")
    written = f"{e.kanji}{_year_text(year) if year >= 1 else year}年{month}月{day}日"
    if year < 1:
        raise ValueError(f"{written}: era years start at 1 (元年)")
    if e.last_year is not None and year > e.last_year:
        raise ValueError(
            f"{written}: {e.kanji} ended in {e.kanji}{e.last_year}年 "
            f"(last day {e.end}); there is no {e.kanji}{year}年"
        )
    try:
        d = date(e.gregorian_year(year), month, day)
    except ValueError:
        raise ValueError(
            f"{written}: no such day in {e.gregorian_year(year)} (month 1-12, day within the month)"
        ) from None
    if d < e.start:
        raise ValueError(f"{written} ({d}) is before {e.kanji} began on {e.start}")
    if e.end is not None and d > e.end:
        raise ValueError(f"{written} ({d}) is after {e.kanji} ended on {e.end}")
    _check_in_scope(d, tbl)
    return d


def _normalise(text: str) -> str:
    # NFKC turns full-width digits/letters/punctuation and ㍻-style era squares into ASCII/kanji;
    # other Unicode digits stay as they are and then fail the [0-9] patterns. Spaces are dropped.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


_KANJI_ERA = r"(?P<era>[^\W\d_A-Za-z]+?)"
_YEAR = r"(?P<year>元|[0-9]{1,3})"
_FULL_KANJI = re.compile(_KANJI_ERA + _YEAR + r"年(?P<month>[0-9]{1,2})月(?P<day>[0-9]{1,2})日")
_FULL_ABBREV = re.compile(
    r"(?P<era>[A-Za-z])(?P<year>[0-9]{1,3})(?P<sep>[./])(?P<month>[0-9]{1,2})(?P=sep)"
    r"(?P<day>[0-9]{1,2})"
)
_PARTIAL = re.compile(
    _KANJI_ERA + _YEAR + r"年(?:(?P<month>[0-9]{1,2})月(?:(?P<day>[0-9]{1,2})日)?)?"
    r"(?P<tail>頃|上旬|中旬|下旬|月日不詳|日不詳|不詳)?"
)


def _year_value(token: str) -> int:
    return 1 if token == "元" else int(token)


def _full_date_parts(normalised: str) -> tuple[str, int, int, int] | None:
    m = _FULL_KANJI.fullmatch(normalised) or _FULL_ABBREV.fullmatch(normalised)
    if m is None:
        return None
    return m["era"], _year_value(m["year"]), int(m["month"]), int(m["day"])


def parse_wareki(text: str, table: EraTable | None = None) -> date:
    """A full Japanese-era date: 平成31年4月30日, 令和元年5月1日, H31.4.30, R1.05.01, H31/4/30.

    Full-width digits are accepted (令和元年５月１日). Strict like ``from_wareki``: a 不詳日
    raises ValueError; use ``parse_birth_date`` for record data.
    """
    parts = _full_date_parts(_normalise(text))
    if parts is None:
        raise ValueError(
            f"cannot read {text!r} as a Japanese-era date; accepted forms: "
            "平成31年4月30日, 令和元年5月1日, H31.4.30, R1.05.01 "
            "(full- or half-width digits)"
        )
    return from_wareki(*parts, table=table)


# --- 不詳日 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """What a 不詳日 text says, read without the era table."""

    era: str | None
    year: int | None
    month: int | None
    day: int | None
    qualifier: str | None
    reasons: tuple[str, ...]  # the reasons this shape allows


def _shape(text: str) -> _Shape | None:
    n = _normalise(text)
    if n in _UNKNOWN_TEXTS:
        return _Shape(None, None, None, None, None, ("unknown",))
    m = _PARTIAL.fullmatch(n)
    if m is None:
        return None
    year = _year_value(m["year"])
    month = int(m["month"]) if m["month"] else None
    day = int(m["day"]) if m["day"] else None
    tail = m["tail"]
    qualifier = tail if tail in QUALIFIERS else None
    if (
        year < 1
        or (month is not None and not 1 <= month <= 12)
        or (day is not None and not 1 <= day <= 31)
    ):
        return None
    if day is not None:
        allowed = {None: ("nonexistent-day", "era-boundary"), "頃": ("approximate",)}
    elif month is not None:
        allowed = {
            None: ("month-only",),
            "日不詳": ("month-only",),
            "不詳": ("month-only",),
            "頃": ("approximate",),
            **{k: ("part-of-month",) for k in _PART_OF_MONTH},
        }
    else:
        allowed = {
            None: ("year-only",),
            "月日不詳": ("year-only",),
            "不詳": ("year-only",),
            "頃": ("approximate",),
        }
    if tail not in allowed:
        return None
    return _Shape(m["era"], year, month, day, qualifier, allowed[tail])


@dataclass(frozen=True)
class UncertainDate:
    """A date that is unknown or partly unknown (不詳日), kept exactly as written.

    ``text`` is the record's text, never rewritten; the other fields are what it says (None when
    unknown): ``era`` is the era's kanji, ``qualifier`` one of None, 頃, 上旬, 中旬, 下旬, and
    ``reason`` one of ``REASONS``. Build one with ``parse_birth_date``: the constructor refuses
    fields that disagree with ``text`` (ValueError), so ``text`` alone carries the value.
    """

    text: str
    era: str | None
    year: int | None
    month: int | None
    day: int | None
    qualifier: str | None
    reason: str

    def __post_init__(self) -> None:
        shape = _shape(self.text) if isinstance(self.text, str) else None
        if shape is None:
            raise ValueError(f"{self.text!r} is not a 不詳日 text; {ACCEPTED_DATE_FORMS}")
        said = (shape.era, shape.year, shape.month, shape.day, shape.qualifier)
        given = (self.era, self.year, self.month, self.day, self.qualifier)
        if said != given or self.reason not in shape.reasons:
            raise ValueError(
                f"fields {given} / reason {self.reason!r} disagree with the text "
                f"{self.text!r} (it says {said}, reason in {shape.reasons}); "
                "build UncertainDate with parse_birth_date"
            )

    def earliest(self, table: EraTable | None = None) -> date | None:
        """First day this text could denote; None when fully unknown."""
        span = _span(self, _table(table))
        return None if span is None else span[0]

    def latest(self, table: EraTable | None = None) -> date | None:
        """Last day this text could denote; None when fully unknown."""
        span = _span(self, _table(table))
        return None if span is None else span[1]


def _span(u: UncertainDate, table: EraTable) -> tuple[date, date] | None:
    """The days ``u`` could denote: its written period (year, month, 旬 or day) within the
    era's written extent. A written day that does not exist stands for its whole month.

    The extent of an era runs to the first day of the next era INCLUSIVE: on a day of 改元 both
    names were written (明治45年7月30日, 大正15年12月25日), and pre-printed forms carry the old
    name later still. Raises ValueError when nothing is left (令和元年4月, 明治5年).
    """
    if u.era is None or u.year is None:
        return None
    era = table.find(u.era)
    gy = era.gregorian_year(u.year)
    if gy > 9999:
        raise ValueError(f"{u.text!r}: year out of range")
    if u.month is None:
        lo, hi = date(gy, 1, 1), date(gy, 12, 31)
    else:
        last = calendar.monthrange(gy, u.month)[1]
        first_day, last_day = _PART_OF_MONTH.get(u.qualifier or "", (1, last))
        lo, hi = date(gy, u.month, first_day), date(gy, u.month, min(last_day, last))
        if u.day is not None and u.day <= last:
            lo = hi = date(gy, u.month, u.day)
    nxt = table.next_era(era)
    extent_hi = nxt.start if nxt is not None else date.max
    _check_in_scope(hi, table, f"{u.text!r}: ")
    lo, hi = max(lo, era.start, table.gregorian_from), min(hi, extent_hi)
    if lo > hi:
        raise ValueError(
            f"{u.text!r}: no day of {era.kanji} ({era.start} to "
            f"{era.end or 'now'}) matches; {ACCEPTED_DATE_FORMS}"
        )
    return lo, hi


def parse_birth_date(text: str, table: EraTable | None = None) -> date | UncertainDate:
    """A birth (or other record) date as written: a ``date`` when it names one real day of the
    era it is written in, else an ``UncertainDate`` flagging the 不詳日.

    Full dates: 平成31年4月30日, 令和元年5月1日, H31.4.30, R1.05.01, or ISO 1989-01-08.
    不詳日 (era names in kanji): 不詳 / 不明 / 年月日不詳 (unknown); 令和3年, 昭和20年月日不詳
    (year-only); 令和3年頃, 昭和50年3月頃 (approximate); 昭和50年3月, 昭和50年3月日不詳
    (month-only); 昭和50年3月上旬/中旬/下旬 (part-of-month); 平成3年2月29日 (nonexistent-day);
    明治45年7月30日, a date written in an era on the next era's first day (era-boundary).
    Full- and half-width digits are accepted; spaces are ignored.

    Raises ValueError, listing the accepted forms, for anything else — including dates before
    1873-01-01 (lunisolar calendar) and periods outside the written era (平成32年, 令和元年4月).
    """
    if not isinstance(text, str):
        raise TypeError(f"expected text, got {type(text).__name__}")
    tbl = _table(table)
    n = _normalise(text)
    if _ISO.fullmatch(n):
        try:
            d = date.fromisoformat(n)
        except ValueError:
            raise ValueError(f"{text!r}: not a calendar date; {ACCEPTED_DATE_FORMS}") from None
        _check_in_scope(d, tbl)
        return d
    full = _full_date_parts(n)
    if full is not None:
        try:
            return from_wareki(*full, table=tbl)
        except ValueError as strict_error:
            if _FULL_ABBREV.fullmatch(n):
                raise ValueError(
                    f"{text!r}: {strict_error}; a 不詳日 must be written with "
                    f"the era name in kanji; {ACCEPTED_DATE_FORMS}"
                ) from None
    shape = _shape(text)
    if shape is None:
        raise ValueError(f"cannot read {text!r} as a date; {ACCEPTED_DATE_FORMS}")
    if shape.era is not None:
        era = tbl.find(shape.era)
        if era.kanji != shape.era:
            raise ValueError(f"{text!r}: write the era name in kanji ({era.kanji})")
    reason = shape.reasons[0]
    if reason in ("nonexistent-day", "era-boundary"):
        reason = _day_reason(shape, tbl, text)
    result = UncertainDate(
        text, shape.era, shape.year, shape.month, shape.day, shape.qualifier, reason
    )
    _span(result, tbl)  # refuse a text that denotes no day of its era
    return result


def _day_reason(shape: _Shape, table: EraTable, text: str) -> str:
    """Why a full-looking date that ``from_wareki`` refused is still a 不詳日 — or ValueError."""
    assert shape.era is not None and shape.year is not None and shape.month is not None
    era = table.find(shape.era)
    gy = era.gregorian_year(shape.year)
    try:
        d = date(gy, shape.month, shape.day or 0)
    except ValueError:
        return "nonexistent-day"
    _check_in_scope(d, table, f"{text!r}: ")
    nxt = table.next_era(era)
    if nxt is not None and d == nxt.start:
        return "era-boundary"
    raise ValueError(
        f"{text!r}: {d} is not in {era.kanji} ({era.start} to {era.end or 'now'}); "
        f"{ACCEPTED_DATE_FORMS}"
    )


def fushou_examples() -> list[str]:
    """Real-shaped 不詳日 texts, one or more per reason (for the population generator)."""
    return [
        "不詳",
        "年月日不詳",
        "令和3年",
        "昭和20年月日不詳",
        "令和3年頃",
        "昭和10年頃",
        "昭和50年3月",
        "昭和50年3月日不詳",
        "昭和50年3月上旬",
        "昭和50年3月中旬",
        "昭和50年3月下旬",
        "平成3年2月29日",
        "昭和40年4月31日",
        "明治45年7月30日",
        "大正15年12月25日",
    ]


# --- the wire form ---------------------------------------------------------------------------


def date_to_wire(value: date | UncertainDate, table: EraTable | None = None) -> dict[str, Any]:
    """The wire form of a date, the same in every simulator.

    A known date: ``{"iso": "1989-01-08", "uncertain": False, "text": "平成元年1月8日",
    "earliest": "1989-01-08", "latest": "1989-01-08"}``. A 不詳日: ``iso`` None, ``uncertain``
    True, ``text`` exactly as written, ``earliest``/``latest`` the range it could denote (None
    when fully unknown).
    """
    if isinstance(value, UncertainDate):
        span = _span(value, _table(table))
        return {
            "iso": None,
            "uncertain": True,
            "text": value.text,
            "earliest": span[0].isoformat() if span else None,
            "latest": span[1].isoformat() if span else None,
        }
    iso = value.isoformat() if isinstance(value, date) else None
    return {
        "iso": iso,
        "uncertain": False,
        "text": to_wareki(value, table).text,
        "earliest": iso,
        "latest": iso,
    }


def date_from_wire(d: dict[str, Any], table: EraTable | None = None) -> date | UncertainDate:
    """The value ``date_to_wire`` encoded; ``date_from_wire(date_to_wire(x)) == x``.

    Raises ValueError when the dict is inconsistent (an uncertain date with an ``iso``, a text
    that disagrees with ``iso``, ``earliest``/``latest`` that disagree with the text): the sender
    built it by hand — use ``date_to_wire``.
    """
    if not isinstance(d, dict) or not isinstance(d.get("uncertain"), bool):
        raise ValueError(f"wire date needs a boolean 'uncertain', got {d!r}")
    if d["uncertain"]:
        if d.get("iso") is not None or not isinstance(d.get("text"), str):
            raise ValueError(f"uncertain wire date needs 'text' and no 'iso', got {d!r}")
        value: date | UncertainDate = parse_birth_date(d["text"], table)
        if not isinstance(value, UncertainDate):
            raise ValueError(f"wire date marked uncertain but {d['text']!r} is a full date")
    else:
        if not isinstance(d.get("iso"), str):
            raise ValueError(f"known wire date needs 'iso' YYYY-MM-DD, got {d!r}")
        value = _as_date(d["iso"], "wire date iso")
    expected = date_to_wire(value, table)
    for key in ("text", "earliest", "latest"):
        if d.get(key) is not None and d[key] != expected[key]:
            raise ValueError(
                f"wire date {key}={d[key]!r} disagrees with the value (expected {expected[key]!r})"
            )
    return value
