"""Deterministic synthetic population of one municipality, in households (resident-registry seed).

``generate(lg_code, persons, seed)`` yields one dict per person, shaped as
``meshcert_simulators.municipal.models.SeedResident``; ``generate_jsonl`` yields the same records
already
encoded as JSON lines (byte-identical to encoding the dicts, only faster); ``write_jsonl`` writes
either to a path or a stream. Same arguments -> byte-identical output: everything is drawn from
one ``random.Random`` seeded from (lg_code, seed), dates are relative to the fixed ``AS_OF`` day,
and nothing reads the clock or global random state.

Speed (>= 50,000 persons/s is the goal, see bench/population.py) comes from precomputing what
repeats: a table of every usable day (ISO text, JSON of the birth-date wire form), the JSON of
each name pair and of each household's address; draws use ``random()`` rather than
``randint``/``choice``; identifiers use table-driven check digits. Output is streamed household
by household, so memory does not grow with ``persons`` (the day table and the name cache are
bounded by the calendar and the name lists).

Identifiers are unique by construction (no "seen" set): 宛名番号 and 世帯番号 are municipal
sequences, 住民票コード and 個人番号 are affine permutations of a counter. Their check digits are
verified once against ``meshcert_simulators.common.identifiers`` (the one place the rules live).
"""

from __future__ import annotations

import calendar
import io
import json
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO, Any

import yaml
from faker.providers.person.ja_JP import Provider as _JaPerson

from meshcert_simulators.common import identifiers
from meshcert_simulators.common.japanese_calendar import (
    UncertainDate,
    date_to_wire,
    parse_birth_date,
    to_wareki,
)
from meshcert_simulators.common.municipalities import Municipality, lookup
from meshcert_simulators.common.text import check_kana
from meshcert_simulators.fixtures import fixture_path

# Data, not code: the corpus stays with the other fixtures (as the era table does).
HARD_CHARACTERS_PATH = fixture_path("population", "hard_characters.yaml")

AS_OF = date(2025, 4, 1)  # "today" of every generated population (never the real clock)
FUSHOU_RATE = 0.005  # share of persons drawn for a 不詳日 birth date (only where it is coherent)
ROMAN_RATE = 0.05  # share of Japanese-named persons with a roman-letter name on record
BUILDING_RATE = 0.40  # share of households living in a named building (apartment)

YEAR = 365.2425  # days
MALE, FEMALE = "1", "2"  # JIS X 0303 sex codes
HEAD, HUSBAND, WIFE, CHILD, FATHER, MOTHER, LODGER = "02", "11", "12", "20", "31", "32", "60"

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_dumps = _ENCODER.encode  # compact; non-ASCII stays UTF-8 text, never \u escapes
_string = json.encoder.encode_basestring  # the same encoder's JSON string form


# --- names ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameEntry:
    """A surname or given name with its reading: ``text`` exactly as registered, ``kana`` in
    full-width katakana, ``roman`` in Hepburn; ``sex`` for given names ("1"/"2")."""

    text: str
    kana: str
    roman: str
    sex: str | None = None


@dataclass(frozen=True, slots=True)
class HardGroup:
    """One kind of hard-to-carry name (see hard_characters.yaml): drawn with ``weight``."""

    key: str
    weight: float
    surnames: tuple[NameEntry, ...]
    given_names: tuple[NameEntry, ...]

    def given_for(self, sex: str) -> tuple[NameEntry, ...]:
        return tuple(g for g in self.given_names if g.sex == sex)


def _katakana(text: str) -> str:
    """Hiragana -> katakana (same reading); everything else unchanged."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def _entry(text: str, kana: str, roman: str, sex: str | None = None) -> NameEntry:
    kana = _katakana(kana)
    check_kana(kana)  # a reading that is not full-width katakana is a fixture bug: fail loudly
    return NameEntry(text, kana, roman, sex)


# (surnames, cumulative surname weights, given names by sex code)
NameLists = tuple[tuple[NameEntry, ...], tuple[float, ...], dict[str, tuple[NameEntry, ...]]]

# faker's romaji has two slips; the kana is right, so the roman follows the kana.
_ROMAN_FIXES = {"修平": "Shuhei", "充": "Mitsuru"}


@cache
def japanese_names() -> NameLists:
    """faker ja_JP's (kanji, kana, romaji) pairs: surnames, their cumulative frequency weights,
    and given names by sex. Read from the provider's class attributes (no Faker instance)."""
    surnames = tuple(_entry(*pair) for pair in _JaPerson.last_name_pairs)
    cumulative, total = [], 0.0
    for weight in _JaPerson.last_name_pairs.values():
        total += float(weight)
        cumulative.append(total)
    given = {
        sex: tuple(_entry(k, kana, _ROMAN_FIXES.get(k, roman), sex) for k, kana, roman in pairs)
        for sex, pairs in ((MALE, _JaPerson.first_name_male_pairs),
                           (FEMALE, _JaPerson.first_name_female_pairs))
    }
    return surnames, tuple(cumulative), given


def load_hard_characters(path: Path | None = None) -> tuple[HardGroup, ...]:
    """The hard-name corpus (hard_characters.yaml), read once for the default path.

    Strings are returned exactly as in the file: no Unicode normalisation anywhere.
    """
    return _read_hard_characters(path or HARD_CHARACTERS_PATH)


@cache
def _read_hard_characters(path: Path) -> tuple[HardGroup, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups = []
    for key, body in raw["groups"].items():
        surnames = tuple(_entry(e["name"], e["kana"], e["roman"]) for e in body["surnames"])
        given = tuple(_entry(e["name"], e["kana"], e["roman"], e["sex"])
                      for e in body.get("given_names", ()))
        if not surnames:
            raise ValueError(f"{path}: group {key!r} needs at least one surname")
        groups.append(HardGroup(key, float(body["weight"]), surnames, given))
    return tuple(groups)


def hard_strings(path: Path | None = None) -> frozenset[str]:
    """Every hard surname and given name of the corpus (to recognise them in output)."""
    return frozenset(e.text for g in load_hard_characters(path)
                     for e in (*g.surnames, *g.given_names))


# --- addresses ------------------------------------------------------------------------------

# Typical 町字 names found in many municipalities; the number is how many 丁目 it has (0: none).
TOWN_NAMES = (
    ("本町", 4), ("中央", 5), ("東町", 3), ("西町", 3), ("南町", 2), ("北町", 2), ("緑が丘", 3),
    ("若葉", 2), ("旭町", 3), ("栄町", 4), ("幸町", 2), ("昭和町", 0), ("大手町", 2), ("新町", 0),
    ("桜町", 3), ("富士見", 4), ("日の出町", 0), ("泉町", 2), ("柳町", 0), ("宮前", 0),
    ("大字上野", 0), ("大字中島", 0),
)
BUILDING_NAMES = (
    "コーポ若葉", "ハイツ栄", "メゾン中央", "サンハイム", "パークハウス", "グランドメゾン",
    "レジデンス緑が丘", "シャトー本町", "ロイヤルコート", "フォレストヒルズ", "第二松風荘",
    "市営住宅",
)
_KANJI_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class Town:
    """One 町字: its text (with 丁目 in kanji numerals, as in the address base registry) and its
    7-digit 町字ID (4-digit 大字・町 number + 3-digit 丁目 number, 000 when there is none)."""

    text: str
    machiaza_id: str
    has_chome: bool


@cache
def towns(lg_code: str) -> tuple[Town, ...]:
    """The 町字 of a municipality: a fixed pick from ``TOWN_NAMES`` that depends on the code only,
    so the same municipality has the same towns (and 町字IDs) under every seed."""
    rng = random.Random(f"towns:{lg_code}")
    picked = sorted(rng.sample(range(len(TOWN_NAMES)), k=rng.randint(8, 14)))
    result = []
    for number, index in enumerate(picked, start=1):
        name, chome = TOWN_NAMES[index]
        if chome == 0:
            result.append(Town(name, f"{number:04d}000", False))
        for c in range(1, chome + 1):
            result.append(Town(f"{name}{_KANJI_DIGITS[c]}丁目", f"{number:04d}{c:03d}", True))
    return tuple(result)


def _banchi(rand: Callable[[], float], town: Town) -> str:
    """番地以下 in half-width digits and hyphens: 番-号 in a 丁目 area, else 番地[-枝番[-号]]."""
    r = rand()
    if town.has_chome:
        return f"{1 + int(rand() * 30)}-{1 + int(rand() * 25)}"
    if r < 0.4:
        return f"{1 + int(rand() * 2500)}"
    if r < 0.8:
        return f"{1 + int(rand() * 2500)}-{1 + int(rand() * 20)}"
    return f"{1 + int(rand() * 40)}-{1 + int(rand() * 20)}-{1 + int(rand() * 12)}"


# --- check digits (fast, verified against meshcert_simulators.common.identifiers)
# ---------------------


def _chunk_table(weights_from_right: tuple[int, ...]) -> tuple[int, ...]:
    """Weighted digit sums of every value of a chunk of len(weights) digits (lowest first)."""
    table = []
    for value in range(10 ** len(weights_from_right)):
        total, v = 0, value
        for w in weights_from_right:
            v, digit = divmod(v, 10)
            total += digit * w
        table.append(total)
    return tuple(table)


# A body read as an int is split into 4-digit chunks from the right; each chunk's share of the
# weighted sum is looked up instead of summing digit by digit (about 5x faster).
_MY_WEIGHTS = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6)  # from the rightmost body digit
_MOD11_WEIGHTS = tuple(2 + i % 6 for i in range(10))  # 2-7 repeating from the right
_MY0, _MY1, _MY2 = (_chunk_table(_MY_WEIGHTS[i:i + 4]) for i in (0, 4, 8))
_M0, _M1 = _chunk_table(_MOD11_WEIGHTS[0:4]), _chunk_table(_MOD11_WEIGHTS[4:8])
_M2 = {9: _chunk_table(_MOD11_WEIGHTS[8:9]), 10: _chunk_table(_MOD11_WEIGHTS[8:10])}


def _my_number(body: int) -> str:
    """11-digit body (an int) + My Number check digit (0 when r <= 1, else 11 - r)."""
    r = (_MY0[body % 10000] + _MY1[body // 10000 % 10000] + _MY2[body // 100000000]) % 11
    return f"{body:011d}{0 if r <= 1 else 11 - r}"


def _mod11(body: int, width: int) -> str | None:
    """Body + modulus-11 check digit, or None for a body that is never issued (remainder 1)."""
    r = (_M0[body % 10000] + _M1[body // 10000 % 10000] + _M2[width][body // 100000000]) % 11
    if r == 1:
        return None
    return f"{body:0{width}d}{0 if r == 0 else 11 - r}"


@cache
def _verify_check_digits() -> None:
    """Cross-check the fast check digits with the identifiers module once per process."""
    rng = random.Random(0)
    for _ in range(300):
        body = rng.randrange(10**11)
        if _my_number(body)[-1] != identifiers.my_number_check_digit(f"{body:011d}"):
            raise RuntimeError("population My Number check digit disagrees with identifiers")
        for width in (9, 10):
            body = rng.randrange(10**width)
            text = f"{body:0{width}d}"
            ours = _mod11(body, width)
            issuable = identifiers.is_issuable_mod11_body(text)
            if (ours is None) == issuable or (
                    ours is not None and ours[-1] != identifiers.mod11_check_digit(text)):
                raise RuntimeError("population modulus-11 check digit disagrees with identifiers")


def _mod11_sequence(after: int) -> Iterator[str]:
    """The issuable 9-digit sequence numbers after ``after``, with their check digits, in order.

    Works a block of 10,000 at a time: within a block only the lowest 4 digits change, so the
    rest of the weighted sum is computed once per block.
    """
    high, low = divmod(after + 1, 10000)
    while True:
        prefix = f"{high:05d}"
        rest = _M1[high % 10000] + _M2[9][high // 10000]
        for lo in range(low, 10000):
            r = (rest + _M0[lo]) % 11
            if r != 1:
                yield f"{prefix}{lo:04d}{0 if r == 0 else 11 - r}"
        high, low = high + 1, 0


class _Numbers:
    """Unique identifiers for one population, without remembering what was issued.

    宛名番号 and 世帯番号 are municipal sequences (9 digits + check digit) starting at a random
    point; 住民票コード and 個人番号 are i -> a*i+b (mod 10**k) with a coprime to 10, a bijection,
    so they look random yet never repeat. Non-issuable modulus-11 bodies are skipped.
    """

    def __init__(self, rng: random.Random) -> None:
        # Random starting points leave room for 900 M more numbers.
        self._atena = _mod11_sequence(rng.randrange(10**7, 10**8)).__next__
        self.setai = _mod11_sequence(rng.randrange(10**7, 10**8)).__next__
        self._i = self._j = 0
        self._my_a, self._my_b = _unit(rng, 10**11), rng.randrange(10**11)
        self._ju_a, self._ju_b = _unit(rng, 10**10), rng.randrange(10**10)

    def person(self) -> tuple[str, str, str]:
        """(宛名番号, 住民票コード, 個人番号) of the next person, in one call (the hot path)."""
        juminhyo = None
        while juminhyo is None:
            self._j += 1
            juminhyo = _mod11((self._ju_a * self._j + self._ju_b) % 10000000000, 10)
        self._i += 1
        my_number = _my_number((self._my_a * self._i + self._my_b) % 100000000000)
        return self._atena(), juminhyo, my_number


def _unit(rng: random.Random, modulus: int) -> int:
    """A multiplier coprime to 10**k, so i -> a*i+b (mod 10**k) never repeats."""
    a = rng.randrange(modulus) | 1
    return a + 2 if a % 5 == 0 else a


# --- dates ----------------------------------------------------------------------------------

_ERA_BOUNDARIES = (date(1926, 12, 25), date(1989, 1, 8))  # first days of 昭和, 平成
_PARTS = ("上旬", "中旬", "下旬")
_WIRE_KEYS = ("iso", "uncertain", "text", "earliest", "latest")
_GREGORIAN_FROM = date(1873, 1, 1).toordinal()  # the calendar module's first day


@dataclass(frozen=True, slots=True)
class _Days:
    """Every day a population can use (births up to ~103 years ago, events up to ``AS_OF``):
    its ISO text and the JSON of its wire form as a known birth date.

    Built once per process (about 46,000 days): the generator then only indexes lists, and its
    memory does not depend on how many persons it writes.
    """

    first: int  # ordinal of iso[0]
    iso: tuple[str, ...]
    birth_json: tuple[str, ...]


@cache
def _days(first: int, last: int) -> _Days:
    iso, birth_json = [], []
    for ordinal in range(first, last + 1):
        wire = date_to_wire(date.fromordinal(ordinal))
        iso.append(wire["iso"])
        if tuple(wire) == _WIRE_KEYS and wire["uncertain"] is False:  # the usual shape: template
            birth_json.append(
                f'{{"iso":"{wire["iso"]}","uncertain":false,"text":{_string(wire["text"])},'
                f'"earliest":"{wire["earliest"]}","latest":"{wire["latest"]}"}}')
        else:
            birth_json.append(_dumps(wire))
    return _Days(first, tuple(iso), tuple(birth_json))


def _fushou_text(rng: random.Random, born: date) -> str | None:
    """A 不詳日 text consistent with the true birth day ``born`` (its range contains it), or None
    when the drawn kind does not fit that day."""
    w = to_wareki(born)
    era_year = f"{w.era.kanji}{'元' if w.year == 1 else w.year}年"
    kind = rng.random()
    if kind < 0.25:
        return f"{era_year}頃"
    if kind < 0.40:
        return era_year + ("月日不詳" if rng.random() < 0.5 else "")
    if kind < 0.55:
        return f"{era_year}{w.month}月"
    if kind < 0.85:
        return f"{era_year}{w.month}月{_PARTS[min((born.day - 1) // 10, 2)]}"
    # A day that does not exist in that month (平成3年2月29日, 昭和40年4月31日).
    month_length = calendar.monthrange(born.year, born.month)[1]
    if month_length == 31:
        return None
    return f"{era_year}{w.month}月{month_length + 1}日"


def _era_boundary_text(born: date) -> str:
    """The boundary day written in the era that just ended: 昭和64年1月8日, 大正15年12月25日."""
    before = to_wareki(date.fromordinal(born.toordinal() - 1))
    return f"{before.era.kanji}{before.year}年{born.month}月{born.day}日"


def _uncertain_birth(text: str) -> tuple[str, dict[str, Any]] | None:
    """(JSON, wire dict) for a 不詳日 text, or None if the calendar reads it as a full date."""
    value = parse_birth_date(text)
    if not isinstance(value, UncertainDate):
        return None
    wire = date_to_wire(value)
    return _dumps(wire), wire


# --- households -----------------------------------------------------------------------------

# (kind, weight): close to the 2020 census mix (single 38 %, couple 20 %, couple + children
# 25 %, single parent 9 %, three generations and others 8 %).
HOUSEHOLD_KINDS = (("single", 0.38), ("couple", 0.20), ("couple_children", 0.25),
                   ("single_parent", 0.09), ("three_generations", 0.06), ("with_lodger", 0.02))
_KIND_NAMES = tuple(k for k, _ in HOUSEHOLD_KINDS)
_KIND_CUMULATIVE = tuple(sum(w for _, w in HOUSEHOLD_KINDS[:i + 1])
                         for i in range(len(HOUSEHOLD_KINDS)))
# Days from the event to the notification (the law allows 14) and from it to processing.
_NOTIFY_DELAYS = (0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 7, 10, 13, 14)
_PROCESS_DELAYS = (0, 0, 0, 0, 0, 0, 0, 1, 1, 3)
_HEAD_AGES = {"couple": (22, 95), "couple_children": (25, 65), "three_generations": (30, 55)}
_ADULT = int(18.1 * YEAR)  # "18 or older" with a margin for leap days
_OLDEST_GAP = int(44.9 * YEAR)  # parents are 18-45 years older than their children


@dataclass(slots=True)
class _Member:
    relationship: str
    sex: str
    born: int  # true birth day (ordinal); the record may show it as a 不詳日
    surname: NameEntry
    given: NameEntry | None = None
    birth: tuple[str, dict[str, Any]] | None = None  # (JSON, wire) when 不詳日


# (atena, setai, juminhyo, my_number, name, sex, birth, relationship, address, became_resident,
# notified, processed): name/address as (JSON, dict); birth as the day's ordinal when known, or
# (JSON, wire dict) for a 不詳日; the three dates as ordinals.
Row = tuple[str, str, str, str, tuple[str, dict[str, Any]], str,
            int | tuple[str, dict[str, Any]], str, tuple[str, dict[str, Any]], int, int, int]


class _Builder:
    """Draws households for one municipality from one Random (all state lives here)."""

    def __init__(self, municipality: Municipality, seed: int, hard_char_rate: float,
                 fushou_rate: float, as_of: date) -> None:
        self.m = municipality
        # The code is part of the seed so that two municipalities seeded alike do not get the
        # same people (and the same My Numbers).
        self.rng = random.Random(f"meshcert-population:{municipality.code}:{seed}")
        self.rand = self.rng.random
        self.hard_rate = hard_char_rate
        self.fushou_rate = fushou_rate
        self.today = as_of.toordinal()
        self.days = _days(max(self.today - int(103 * YEAR), _GREGORIAN_FROM), self.today)
        self.last_event = self.today - 17  # leaves room for notification and processing
        self.numbers = _Numbers(self.rng)
        self.surnames, self.surname_cum, self.given = japanese_names()
        self.hard_groups = load_hard_characters()
        self.hard_cum = tuple(sum(g.weight for g in self.hard_groups[:i + 1])
                              for i in range(len(self.hard_groups)))
        self.names: dict[tuple[int, int, bool], tuple[str, dict[str, Any]]] = {}
        self.towns = tuple((t, _address_prefix(municipality, t)) for t in towns(municipality.code))

    # -- draws (random() based: several times faster than randint/choice) --

    def pick(self, seq: tuple) -> Any:
        return seq[int(self.rand() * len(seq))]

    def between(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return low + int(self.rand() * (high - low + 1))

    def born_aged(self, low: float, high: float) -> int:
        """A birth day for an age in [low, high) years today."""
        return self.today - int((low + (high - low) * self.rand()) * YEAR)

    def surname(self) -> NameEntry:
        return self.surnames[bisect(self.surname_cum, self.rand() * self.surname_cum[-1])]

    # -- members --

    def members(self, kind: str) -> list[_Member]:
        """The members of one household of ``kind``, head first, with true birth days."""
        rand = self.rand
        surname = self.surname()
        head_sex = MALE if rand() < 0.5 else FEMALE
        if kind == "single":
            band = rand()
            age = (18.01, 40) if band < 0.55 else (40, 65) if band < 0.70 else (65, 101)
            return [_Member(HEAD, head_sex, self.born_aged(*age), surname)]
        if kind == "single_parent":
            head_sex = FEMALE if rand() < 0.85 else MALE
            head = _Member(HEAD, head_sex, self.born_aged(22, 60), surname)
            return [head, *self.children([head], surname, 1 + (rand() < 0.4))]
        if kind == "with_lodger":
            head = _Member(HEAD, head_sex, self.born_aged(20, 75), surname)
            lodger_sex = MALE if rand() < 0.5 else FEMALE
            return [head, _Member(LODGER, lodger_sex, self.born_aged(19, 80), self.surname())]
        head_sex = MALE if rand() < 0.85 else FEMALE
        head = _Member(HEAD, head_sex, self.born_aged(*_HEAD_AGES[kind]), surname)
        gap = (-3 + 11 * rand()) if head_sex == MALE else (-8 + 11 * rand())  # years younger
        spouse_born = min(head.born + int(gap * YEAR), self.today - int(20 * YEAR))
        spouse = (_Member(WIFE, FEMALE, spouse_born, surname) if head_sex == MALE
                  else _Member(HUSBAND, MALE, spouse_born, surname))
        result = [head, spouse]
        if kind == "couple_children":
            result += self.children([head, spouse], surname, self.pick((1, 1, 2, 2, 2, 3)))
        elif kind == "three_generations":
            result += self.children([head, spouse], surname, self.pick((0, 1, 1, 2)))
            oldest = max(head.born - _OLDEST_GAP, self.today - int(100 * YEAR))
            youngest = head.born - _ADULT
            if oldest < youngest:
                if rand() < 0.5:
                    result.append(_Member(FATHER, MALE, self.between(oldest, youngest), surname))
                result.append(_Member(MOTHER, FEMALE, self.between(oldest, youngest), surname))
        return result

    def children(self, parents: list[_Member], surname: NameEntry, count: int) -> list[_Member]:
        """Children born 18.1-44.9 years after every parent, and before the last event day."""
        first = max(p.born for p in parents) + _ADULT
        last = min(min(p.born for p in parents) + _OLDEST_GAP, self.last_event)
        if first > last:
            return []
        return [_Member(CHILD, MALE if self.rand() < 0.5 else FEMALE, self.between(first, last),
                        surname) for _ in range(count)]

    # -- names --

    def name(self, surname: NameEntry, given: NameEntry, roman: bool,
             ) -> tuple[str, dict[str, Any]]:
        """(JSON, dict) of a name, built once per combination."""
        key = (id(surname), id(given), roman)
        found = self.names.get(key)
        if found is None:
            name = {"surname": surname.text, "given_name": given.text,
                    "surname_kana": surname.kana, "given_name_kana": given.kana,
                    "roman": f"{surname.roman.upper()} {given.roman}" if roman else None}
            found = self.names[key] = (_dumps(name), name)
        return found

    def assign_names(self, members: list[_Member]) -> bool:
        """Given names for everyone; at ``hard_char_rate`` the whole household takes a hard name
        (a lodger too, from the same group), so that share of persons is hard-named.

        Returns True when the household is foreign-named (roman name always on record).
        """
        rand = self.rand
        for m in members:
            m.given = self.pick(self.given[m.sex])
        if rand() >= self.hard_rate:
            return False
        group = self.hard_groups[bisect(self.hard_cum, rand() * self.hard_cum[-1])]
        surname = self.pick(group.surnames)
        foreign = group.key == "long_foreign"
        for m in members:
            m.surname = surname if m.relationship != LODGER else self.pick(group.surnames)
            hard_given = group.given_for(m.sex)
            if hard_given and (foreign or rand() < 0.25):
                m.given = self.pick(hard_given)
        return foreign

    # -- 不詳日 --

    def fushou(self, member: _Member, start: int) -> None:
        """Write the birth date as a 不詳日 whose range contains the true day — only if that
        range ends before the person became resident (so every date stays coherent), and for a
        head only if every day of the range still makes an adult."""
        if member.relationship == LODGER and self.rand() < 0.2:
            member.birth = _uncertain_birth("不詳")  # nothing known: allowed for a lodger only
            return
        text = _fushou_text(self.rng, date.fromordinal(member.born))
        birth = _uncertain_birth(text) if text is not None else None
        if birth is None or birth[1]["latest"] >= date.fromordinal(start).isoformat():
            return
        adult_by = date.fromordinal(self.today - _ADULT).isoformat()
        if member.relationship == HEAD and birth[1]["latest"] > adult_by:
            return
        member.birth = birth

    def era_boundary_single(self, head: _Member) -> None:
        """Make a single person born on an era's first day, written in the old era
        (昭和64年1月8日, 大正15年12月25日), when that day gives an adult aged up to 101."""
        day = self.pick(_ERA_BOUNDARIES).toordinal()
        if self.today - int(101 * YEAR) < day < self.today - _ADULT:
            head.born = day
            head.birth = _uncertain_birth(_era_boundary_text(date.fromordinal(day)))

    # -- records --

    def household(self, limit: int) -> Iterator[Row]:
        """One household's rows, head first; at most ``limit`` members."""
        rand = self.rand
        numbers = self.numbers
        kind = _KIND_NAMES[bisect(_KIND_CUMULATIVE, rand() * _KIND_CUMULATIVE[-1])]
        members = self.members(kind)[:limit]
        foreign = self.assign_names(members)
        head = members[0]
        fushou_rate = self.fushou_rate
        if kind == "single" and rand() < fushou_rate * 0.1:
            self.era_boundary_single(head)
        last_event = self.last_event
        moved_in = self.between(min(head.born + _ADULT, last_event), last_event)
        address = self.address()
        setai = numbers.setai()
        person_ids = numbers.person
        name_of = self.name
        for m in members:
            start = moved_in if m.born < moved_in else m.born  # moved in with them, or born here
            if m.relationship == LODGER:  # joined later, as an adult
                start = self.between(max(moved_in, m.born + _ADULT), last_event)
            if m.birth is None and m.born < start - 400 and rand() < fushou_rate:
                self.fushou(m, start)
            notified = start + _NOTIFY_DELAYS[int(rand() * 14)]
            processed = notified + _PROCESS_DELAYS[int(rand() * 10)]
            name = name_of(m.surname, m.given, foreign or rand() < ROMAN_RATE)  # type: ignore[arg-type]
            atena, juminhyo, my_number = person_ids()
            yield (atena, setai, juminhyo, my_number, name, m.sex, m.birth or m.born,
                   m.relationship, address, start, notified, processed)

    def address(self) -> tuple[str, dict[str, Any]]:
        """(JSON, dict) of a household's address: a town of the municipality, 番地, building."""
        town, prefix = self.pick(self.towns)
        banchi = _banchi(self.rand, town)
        building = None
        if self.rand() < BUILDING_RATE:
            building = (f"{self.pick(BUILDING_NAMES)}{self.between(1, 12)}"
                        f"{self.between(1, 12):02d}号室")
        value = {"lg_code": self.m.code, "machiaza_id": town.machiaza_id,
                 "prefecture": self.m.prefecture, "city": self.m.city, "town": town.text,
                 "banchi": banchi, "building": building}
        building_json = "null" if building is None else _string(building)
        return f'{prefix}"{banchi}","building":{building_json}}}', value


def _address_prefix(m: Municipality, town: Town) -> str:
    """The JSON of an address up to the 番地 value (the same for every household in a town)."""
    return (f'{{"lg_code":{_string(m.code)},"machiaza_id":{_string(town.machiaza_id)},'
            f'"prefecture":{_string(m.prefecture)},"city":{_string(m.city)},'
            f'"town":{_string(town.text)},"banchi":')


def _builder(lg_code: str, persons: int, seed: int, hard_char_rate: float, fushou_rate: float,
             as_of: date) -> _Builder:
    """Check the arguments (ValueError saying what is wrong) and set up one population."""
    if isinstance(persons, bool) or not isinstance(persons, int) or persons < 0:
        raise ValueError(f"persons must be a non-negative int, got {persons!r}")
    for name, rate in (("hard_char_rate", hard_char_rate), ("fushou_rate", fushou_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within 0..1, got {rate!r}")
    municipality = lookup(lg_code)
    if municipality.is_prefecture:
        raise ValueError(f"{lg_code} is the code of {municipality.prefecture} itself; residents "
                         "are registered by a municipality (city, town, village, special ward)")
    _verify_check_digits()
    return _Builder(municipality, seed, hard_char_rate, fushou_rate, as_of)


def _rows(builder: _Builder, persons: int) -> Iterator[Row]:
    """Exactly ``persons`` rows (the last household is cut short if needed, head kept)."""
    left = persons
    while left > 0:
        for row in builder.household(left):
            left -= 1
            yield row


# --- public API -----------------------------------------------------------------------------


def generate(lg_code: str, persons: int, seed: int, hard_char_rate: float = 0.02, *,
             fushou_rate: float = FUSHOU_RATE, as_of: date = AS_OF) -> Iterator[dict[str, Any]]:
    """``persons`` resident records of municipality ``lg_code``, household by household.

    Each record is a fresh dict shaped as ``SeedResident`` (head first in each household). The
    same arguments give the same records; ValueError for an unknown or prefecture code, a
    negative count or a rate outside 0..1 (raised when iteration starts).
    """
    builder = _builder(lg_code, persons, seed, hard_char_rate, fushou_rate, as_of)
    iso, first = builder.days.iso, builder.days.first
    for (atena, setai, juminhyo, my_number, name, sex, birth, rel, address, start, notified,
         processed) in _rows(builder, persons):
        wire = (date_to_wire(date.fromordinal(birth)) if isinstance(birth, int)
                else dict(birth[1]))
        yield {
            "atena_number": atena, "setai_number": setai, "juminhyo_code": juminhyo,
            "my_number": my_number, "name": dict(name[1]), "former_surname": None, "sex": sex,
            "birth_date": wire, "relationship": rel, "address": dict(address[1]),
            "dates": {"became_resident": iso[start - first], "address_fixed": iso[start - first],
                      "notified": iso[notified - first], "processed": iso[processed - first]},
            "status": "resident",
        }


def generate_jsonl(lg_code: str, persons: int, seed: int, hard_char_rate: float = 0.02, *,
                   fushou_rate: float = FUSHOU_RATE, as_of: date = AS_OF) -> Iterator[str]:
    """The records of ``generate`` (same arguments, same order) as JSON lines ending in "\\n".

    Each line equals ``encode_record(record)`` of the matching dict; the JSON of names, days
    and addresses is reused instead of re-encoded, which makes this the fast path.
    """
    builder = _builder(lg_code, persons, seed, hard_char_rate, fushou_rate, as_of)
    iso, births, first = builder.days.iso, builder.days.birth_json, builder.days.first
    for (atena, setai, juminhyo, my_number, name, sex, birth, rel, address, start, notified,
         processed) in _rows(builder, persons):
        # One f-string (several times faster than str.format); key order as in ``generate``.
        started = iso[start - first]
        birth_json = births[birth - first] if isinstance(birth, int) else birth[0]
        yield (f'{{"atena_number":"{atena}","setai_number":"{setai}",'
               f'"juminhyo_code":"{juminhyo}","my_number":"{my_number}","name":{name[0]},'
               f'"former_surname":null,"sex":"{sex}","birth_date":{birth_json},'
               f'"relationship":"{rel}","address":{address[0]},"dates":{{'
               f'"became_resident":"{started}","address_fixed":"{started}",'
               f'"notified":"{iso[notified - first]}","processed":"{iso[processed - first]}"}},'
               '"status":"resident"}\n')


def encode_record(record: dict[str, Any]) -> str:
    """One record as a JSON line: compact, UTF-8 text kept as is (no \\u escapes), "\\n" end."""
    return _dumps(record) + "\n"


def write_jsonl(records: Iterable[dict[str, Any] | str], path_or_stream: str | Path | IO[Any],
                ) -> int:
    """Write records, one JSON line each, to a path (UTF-8, "\\n") or an open stream (text or
    binary); return how many were written.

    A record is a dict (encoded with ``encode_record``) or a line from ``generate_jsonl``
    (written as is). Lines are written in batches, so memory stays flat for any count.
    """
    if isinstance(path_or_stream, str | Path):
        with open(path_or_stream, "w", encoding="utf-8", newline="\n") as handle:
            return _write(records, handle.write)
    if isinstance(path_or_stream, io.TextIOBase):
        return _write(records, path_or_stream.write)
    mode = getattr(path_or_stream, "mode", "")
    if isinstance(path_or_stream, io.RawIOBase | io.BufferedIOBase) or (
            isinstance(mode, str) and "b" in mode):
        stream = path_or_stream
        return _write(records, lambda text: stream.write(text.encode("utf-8")))
    return _write(records, path_or_stream.write)


def _write(records: Iterable[dict[str, Any] | str], write: Callable[[str], object],
           batch: int = 2000) -> int:
    """Encode and write in batches of ``batch`` lines (fewer, larger writes)."""
    count = 0
    pending: list[str] = []
    for record in records:
        if isinstance(record, str):
            pending.append(record if record.endswith("\n") else record + "\n")
        else:
            pending.append(_dumps(record) + "\n")
        count += 1
        if len(pending) >= batch:
            write("".join(pending))
            pending.clear()
    if pending:
        write("".join(pending))
    return count
