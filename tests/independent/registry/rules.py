"""Identifier check digits and Japanese-era dates, as the public rules state them."""

from __future__ import annotations

import re
import secrets
from datetime import date

# The era table (改元 dates): an era starts on its first day, the day the previous one ends.
ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)), ("平成", date(1989, 1, 8)), ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)), ("明治", date(1868, 1, 25)))
WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|[0-9]{1,2})年([0-9]{1,2})月([0-9]{1,2})日$")


def mod11_digit(body: str) -> str:
    """Modulus 11, weights 2–7 from the right (宛名番号, 世帯番号, 住民票コード); a body whose
    remainder is 1 has no check digit and is never issued."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    remainder = total % 11
    if remainder == 1:
        raise ValueError(f"{body}: never issued (remainder 1)")
    return "0" if remainder == 0 else str(11 - remainder)


def my_number_digit(body: str) -> str:
    """The My Number check digit (番号法施行令 第8条) of an 11-digit body."""
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5)
                for n, d in enumerate(reversed(body), start=1))
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def is_my_number(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit() \
        and my_number_digit(value[:11]) == value[11]


def is_lg_code(value: str) -> bool:
    """全国地方公共団体コード: 5 digits and a check digit (weights 6–2, modulus 11)."""
    if len(value) != 6 or not (value.isascii() and value.isdigit()):
        return False
    remainder = sum(int(d) * w for d, w in zip(value[:5], (6, 5, 4, 3, 2), strict=True)) % 11
    return str((11 - remainder) % 10) == value[5]


def new_mod11(length: int) -> str:
    """A random number of ``length`` digits with its modulus-11 check digit."""
    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(length - 1))
        try:
            return body + mod11_digit(body)
        except ValueError:
            continue


def new_my_number() -> str:
    body = str(secrets.choice("123456789")) + "".join(
        secrets.choice("0123456789") for _ in range(10))
    return body + my_number_digit(body)


def to_wareki(day: date) -> str:
    for era, start in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    raise ValueError(f"{day} is before the era table")


def from_wareki(text: str) -> date | None:
    """The day a full 和暦 date names, or None when it names no day inside its era."""
    found = WAREKI.match(text)
    if not found:
        return None
    era, year, month, day = found.groups()
    start = dict(ERAS)[era]
    try:
        result = date(start.year + (1 if year == "元" else int(year)) - 1, int(month), int(day))
    except ValueError:
        return None
    ends = {older: newer for (older, _), (_, newer) in zip(ERAS[1:], ERAS[:-1], strict=True)}
    if result < start or (era in ends and result >= ends[era]):
        return None
    return result


def wire_date(given: dict) -> dict:
    """A WireDate as served: ISO when the day is known (with its 和暦), a 不詳日 kept as
    written and flagged. Raises ValueError when the given fields disagree."""
    iso, text = given.get("iso"), given.get("text")
    if iso is not None:
        day = date.fromisoformat(iso)
        wareki = to_wareki(day) if day >= ERAS[-1][1] else None
        if text is not None and text != wareki and from_wareki(text) != day:
            raise ValueError(f"birth date: iso {iso} and text {text!r} disagree")
        return {"iso": iso, "text": text or wareki, "uncertain": False,
                "earliest": iso, "latest": iso}
    day = None if given.get("uncertain") else from_wareki(text or "")
    if day is None:
        return {"iso": None, "text": text, "uncertain": True,
                "earliest": given.get("earliest"), "latest": given.get("latest")}
    return {"iso": day.isoformat(), "text": text, "uncertain": False,
            "earliest": day.isoformat(), "latest": day.isoformat()}
