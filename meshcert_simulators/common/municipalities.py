"""The national list of local government codes (JIS X 0402, 2020 vintage) as typed records.

The list lives in ``fixtures/municipalities/jisx0402.csv`` (47 prefectures + 1,741
municipalities). It is read once, on first use, and kept as an immutable tuple; lookups by code
go through a dict built at the same time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from meshcert_simulators.fixtures import fixture_path

CSV_PATH = fixture_path("municipalities", "jisx0402.csv")
COLUMNS = ("code", "prefecture", "city", "prefecture_kana", "city_kana")


@dataclass(frozen=True, slots=True)
class Municipality:
    """One row of the list. Prefecture rows have an empty ``city`` and ``city_kana``."""

    code: str
    prefecture: str
    city: str
    prefecture_kana: str
    city_kana: str

    @property
    def is_prefecture(self) -> bool:
        """True for the prefecture's own row (code ``PP000c``, empty ``city``)."""
        return self.city == ""

    @property
    def name(self) -> str:
        """Full name as written in an address, e.g. ``東京都千代田区``."""
        return self.prefecture + self.city


@cache
def all_municipalities() -> tuple[Municipality, ...]:
    """Every row of the list (prefectures and municipalities), in code order."""
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if tuple(header) != COLUMNS:
            raise ValueError(f"{CSV_PATH}: expected columns {COLUMNS}, found {tuple(header)}")
        return tuple(Municipality(*row) for row in reader)


@cache
def _by_code() -> dict[str, Municipality]:
    return {m.code: m for m in all_municipalities()}


@cache
def municipalities_only() -> tuple[Municipality, ...]:
    """The 1,741 municipalities (cities, towns, villages, special wards) without prefecture rows."""
    return tuple(m for m in all_municipalities() if not m.is_prefecture)


def lookup(code: str) -> Municipality:
    """The row for a 6-digit code; ValueError (not KeyError) naming the problem if unknown."""
    found = _by_code().get(code)
    if found is not None:
        return found
    if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValueError(f"local government code must be 6 ASCII digits, got {code!r}")
    raise ValueError(
        f"unknown local government code {code!r}: not in the JIS X 0402 list (2020 vintage, "
        f"{len(_by_code())} codes); check the last (check) digit, e.g. 千代田区 is '131016'"
    )
