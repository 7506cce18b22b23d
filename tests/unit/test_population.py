"""The synthetic population generator (meshcert_simulators/common/population.py)."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections import defaultdict
from datetime import date
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcert_simulators.common.identifiers import (
    is_valid_juminhyo_code,
    is_valid_mod11,
    is_valid_my_number,
)
from meshcert_simulators.common.japanese_calendar import UncertainDate, parse_birth_date
from meshcert_simulators.common.municipalities import lookup
from meshcert_simulators.common.population import (
    AS_OF,
    encode_record,
    generate,
    generate_jsonl,
    hard_strings,
    load_hard_characters,
    towns,
    write_jsonl,
)
from meshcert_simulators.common.text import KANA_PATTERN
from meshcert_simulators.municipal.models import RELATIONSHIPS, SeedResident

KANA = re.compile(KANA_PATTERN)
BANCHI = re.compile(r"[0-9]+(-[0-9]+)*")
LG = "131016"  # 千代田区


@cache
def population(lg_code: str = LG, persons: int = 4000, seed: int = 7, rate: float = 0.1,
               fushou: float = 0.05) -> tuple[dict[str, Any], ...]:
    """A sample with raised hard-name and 不詳日 rates, so that every case occurs."""
    return tuple(generate(lg_code, persons, seed, rate, fushou_rate=fushou))


def to_bytes(records: Any) -> bytes:
    out = io.BytesIO()
    write_jsonl(records, out)
    return out.getvalue()


def span(record: dict[str, Any]) -> tuple[date, date] | None:
    """The days the birth date can denote: one day when known; None when fully unknown."""
    wire = record["birth_date"]
    if not wire["uncertain"]:
        day = date.fromisoformat(wire["iso"])
        return day, day
    if wire["earliest"] is None:
        return None
    return date.fromisoformat(wire["earliest"]), date.fromisoformat(wire["latest"])


def years_between(earlier: date, later: date) -> int:
    """Completed years from ``earlier`` to ``later`` (an age)."""
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def households(records: tuple[dict[str, Any], ...] | list[dict[str, Any]],
               ) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        grouped[r["setai_number"]].append(r)
    return grouped


def is_hard(record: dict[str, Any]) -> bool:
    return bool({record["name"]["surname"], record["name"]["given_name"]} & hard_strings())


# --- determinism -----------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes() -> None:
    first = to_bytes(generate_jsonl(LG, 3000, 42))
    assert first == to_bytes(generate_jsonl(LG, 3000, 42))
    assert first == to_bytes(generate(LG, 3000, 42))  # the dict path writes the same bytes
    assert first.count(b"\n") == 3000


def test_a_different_seed_or_municipality_gives_different_people() -> None:
    base = to_bytes(generate_jsonl(LG, 500, 1))
    assert base != to_bytes(generate_jsonl(LG, 500, 2))
    chiyoda = {r["my_number"] for r in generate(LG, 2000, 1)}
    sapporo = {r["my_number"] for r in generate("011002", 2000, 1)}
    assert not chiyoda & sapporo


def test_lines_equal_the_encoded_dicts() -> None:
    lines = list(generate_jsonl(LG, 4000, 7, 0.1, fushou_rate=0.05))
    assert lines == [encode_record(r) for r in population()]


# --- shape and identifiers ---------------------------------------------------------------


def test_every_record_validates_against_seed_resident() -> None:
    for line in generate_jsonl(LG, 4000, 7, 0.1, fushou_rate=0.05):
        SeedResident.model_validate_json(line)


def test_identifiers_are_valid_and_unique() -> None:
    records = population()
    for r in records:
        assert is_valid_mod11(r["atena_number"]) and len(r["atena_number"]) == 10, r
        assert is_valid_mod11(r["setai_number"]) and len(r["setai_number"]) == 10, r
        assert is_valid_juminhyo_code(r["juminhyo_code"]), r
        assert is_valid_my_number(r["my_number"]), r
    for key in ("atena_number", "juminhyo_code", "my_number"):
        assert len({r[key] for r in records}) == len(records), key


def test_exact_count_and_streaming() -> None:
    assert list(generate(LG, 0, 1)) == []
    assert sum(1 for _ in generate(LG, 1, 1)) == 1
    stream = generate_jsonl(LG, 10**9, 1)  # lazily: nothing is built ahead
    assert json.loads(next(stream))["relationship"] == "02"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lg_code": "131017"}, "unknown local government code"),
    ({"lg_code": "130001"}, "東京都 itself"),
    ({"persons": -1}, "non-negative"),
    ({"hard_char_rate": 1.5}, "hard_char_rate"),
])
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    args = {"lg_code": LG, "persons": 5, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        next(generate(**args))


# --- households ------------------------------------------------------------------------------


def check_households(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> None:
    """Household invariants (shared by the fixed sample and the property test)."""
    grouped = households(records)
    order = [r["setai_number"] for r in records]
    for setai, members in grouped.items():
        # Members are consecutive, head first, exactly one head, one address.
        first = order.index(setai)
        assert order[first:first + len(members)] == [setai] * len(members)
        assert [m["relationship"] for m in members].count("02") == 1
        assert members[0]["relationship"] == "02"
        assert len({json.dumps(m["address"], sort_keys=True) for m in members}) == 1
        head = members[0]
        head_span = span(head)
        assert head_span is not None
        assert years_between(head_span[1], AS_OF) >= 18, head
        spouses = [m for m in members if m["relationship"] in ("11", "12")]
        assert len(spouses) <= 1
        for s in spouses:
            assert s["relationship"] == ("12" if head["sex"] == "1" else "11")
        for m in members:
            assert m["relationship"] in RELATIONSHIPS
            older: list[dict[str, Any]] = []
            if m["relationship"] == "20":
                older = [head, *spouses]
            elif m["relationship"] in ("31", "32"):
                m, older = head, [m]
            for parent in older:
                assert_parent_older(parent, m)


def assert_parent_older(parent: dict[str, Any], child: dict[str, Any]) -> None:
    """18-45 years between parent and child; a 不詳日 widens that by its own range."""
    p, c = span(parent), span(child)
    assert p is not None and c is not None
    slack = 0 if p[0] == p[1] and c[0] == c[1] else 1
    assert years_between(p[1], c[0]) >= 18 - slack, (parent, child)
    assert years_between(p[0], c[1]) <= 45 + slack, (parent, child)


def test_household_invariants() -> None:
    check_households(population())


def test_household_size_mix_is_realistic() -> None:
    sizes = [len(m) for m in households(population(persons=20000, seed=3)).values()]
    single = sizes.count(1) / len(sizes)
    assert 0.33 <= single <= 0.43
    assert 2.0 <= sum(sizes) / len(sizes) <= 2.6  # Japan: 2.2 persons per household (2020)
    assert max(sizes) >= 5  # three generations occur


def test_dates_are_ordered_and_not_in_the_future() -> None:
    for r in population():
        d = {k: date.fromisoformat(v) for k, v in r["dates"].items()}
        assert d["became_resident"] == d["address_fixed"] <= d["notified"] <= d["processed"]
        assert (d["notified"] - d["became_resident"]).days <= 14
        assert d["processed"] <= AS_OF
        birth = span(r)
        if birth is not None:
            assert birth[1] <= d["became_resident"], r


# --- addresses and names ---------------------------------------------------------------------


@pytest.mark.parametrize("lg_code", ["131016", "011002", "472085", "473821"])
def test_addresses_are_in_the_municipality(lg_code: str) -> None:
    m = lookup(lg_code)
    known = {(t.text, t.machiaza_id) for t in towns(lg_code)}
    for r in generate(lg_code, 800, 5):
        a = r["address"]
        assert (a["lg_code"], a["prefecture"], a["city"]) == (m.code, m.prefecture, m.city)
        assert (a["town"], a["machiaza_id"]) in known
        assert re.fullmatch(r"[0-9]{7}", a["machiaza_id"])
        assert BANCHI.fullmatch(a["banchi"]), a
        assert a["building"] is None or a["building"].strip()


def test_kana_is_full_width_katakana() -> None:
    for r in population():
        assert KANA.fullmatch(r["name"]["surname_kana"]), r["name"]
        assert KANA.fullmatch(r["name"]["given_name_kana"]), r["name"]
        roman = r["name"]["roman"]
        assert roman is None or re.fullmatch(r"[A-Z][A-Z ]* [A-Z][A-Za-z ]*", roman), roman


def test_names_keep_their_readings() -> None:
    """Every (name, kana) pair comes from the same source entry: 𠮷田 is read ヨシダ."""
    readings: dict[str, str] = {}
    for group in load_hard_characters():
        for e in (*group.surnames, *group.given_names):
            readings[e.text] = e.kana
    seen = 0
    for r in population():
        n = r["name"]
        pairs = ((n["surname"], n["surname_kana"]), (n["given_name"], n["given_name_kana"]))
        for text, kana in pairs:
            if text in readings:
                assert kana == readings[text], n
                seen += 1
    assert seen > 0


# --- hard characters -------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.0, 0.02, 0.1, 0.3])
def test_hard_name_rate_is_near_the_requested_rate(rate: float) -> None:
    records = list(generate(LG, 8000, 11, rate))
    share = sum(map(is_hard, records)) / len(records)
    # Whole households are hard, so the share varies more than a per-person draw would.
    assert abs(share - rate) <= max(0.01, rate * 0.3), share
    if rate == 0.0:
        assert share == 0.0


def test_every_kind_of_hard_name_occurs() -> None:
    records = population()
    names = [r["name"]["surname"] + r["name"]["given_name"] for r in records]
    assert any(any(ord(c) > 0xFFFF and not 0xE0100 <= ord(c) <= 0xE01EF for c in n)
               for n in names)  # outside the BMP
    assert any(any(0xE0100 <= ord(c) <= 0xE01EF for c in n) for n in names)  # IVS
    assert any(unicodedata.normalize("NFC", n) != n for n in names)  # NFC would change it
    assert any(set(n) & set("髙﨑德邊邉齋齊") for n in names)  # variant forms
    assert any(len(n) > 20 for n in names)  # long (foreign) names


def test_corpus_holds_the_exact_code_points() -> None:
    strings = hard_strings()
    for expected in ("\U00020BB7田", "\U0002123D屋", "\U00029E3D", "山\uFA11", "髙橋", "渡邊",
                     "渡邉", "齋藤", "齊藤", "德永", "\uFA10田", "葛\U000E0100西",
                     "辻\U000E0101本"):
        assert expected in strings, ascii(expected)
    assert unicodedata.normalize("NFC", "\uFA10田") != "\uFA10田"  # a normaliser would break it
    for group in load_hard_characters():
        for e in (*group.surnames, *group.given_names):
            assert KANA.fullmatch(e.kana), e
        if group.key == "long_foreign":
            assert all(len(s.text) + len(g.text) > 20
                       for s in group.surnames for g in group.given_names)


def test_hard_names_survive_json_byte_exactly() -> None:
    lines = [line for line in generate_jsonl(LG, 4000, 7, 0.1, fushou_rate=0.05)
             if is_hard(json.loads(line))]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert encode_record(record) == line  # decode + encode is the identity
        raw = line.encode("utf-8")
        assert raw.decode("utf-8") == line
        for text in (record["name"]["surname"], record["name"]["given_name"]):
            assert text.encode("utf-8") in raw  # written as UTF-8, not as \\u escapes
        assert json.loads(json.dumps(record)) == record  # ASCII-escaped JSON round-trips too
    out = io.BytesIO()
    write_jsonl(lines, out)
    assert out.getvalue().decode("utf-8") == "".join(lines)


def test_hard_characters_are_written_as_their_exact_utf8_bytes() -> None:
    raw = to_bytes(generate_jsonl(LG, 3000, 7, 1.0))  # every household hard-named
    assert "\U00020BB7".encode() == b"\xf0\xa0\xae\xb7" and b"\xf0\xa0\xae\xb7" in raw  # 𠮷
    assert "\uFA10".encode() in raw  # 塚 U+FA10, not NFC's U+585A
    assert "葛\U000E0100".encode() in raw  # base + variation selector, both kept
    assert b"\\u" not in raw  # no escapes
    assert "\uFFFD".encode() not in raw  # nothing replaced


# --- 不詳日 ----------------------------------------------------------------------------------


def test_fushou_dates_appear_flagged_and_coherent() -> None:
    uncertain = [r for r in population() if r["birth_date"]["uncertain"]]
    assert len(uncertain) >= 20
    reasons = set()
    for r in uncertain:
        wire = r["birth_date"]
        assert wire["iso"] is None and wire["text"], wire
        value = parse_birth_date(wire["text"])
        assert isinstance(value, UncertainDate), wire
        reasons.add(value.reason)
        if wire["earliest"] is None:
            assert r["relationship"] == "60"  # 不詳 (nothing known) only for a lodger
        else:
            assert wire["earliest"] <= wire["latest"] < r["dates"]["became_resident"]
    assert {"approximate", "part-of-month", "month-only", "year-only"} <= reasons
    assert "nonexistent-day" in reasons


def test_fushou_rate_zero_gives_only_known_dates() -> None:
    assert not any(r["birth_date"]["uncertain"] for r in generate(LG, 2000, 3, fushou_rate=0))


def test_birth_dates_span_the_eras() -> None:
    texts = [r["birth_date"]["text"] for r in population(persons=20000, seed=3)]
    for era in ("大正", "昭和", "平成", "令和"):
        assert any(t.startswith(era) for t in texts), era


# --- writing ---------------------------------------------------------------------------------


def test_write_jsonl_to_path_and_streams(tmp_path: Any) -> None:
    path = tmp_path / "population.jsonl"
    assert write_jsonl(generate(LG, 300, 9), path) == 300
    expected = path.read_bytes()
    assert write_jsonl(generate_jsonl(LG, 300, 9), str(tmp_path / "b.jsonl")) == 300
    assert (tmp_path / "b.jsonl").read_bytes() == expected
    text = io.StringIO()
    assert write_jsonl(generate_jsonl(LG, 300, 9), text) == 300
    assert text.getvalue().encode("utf-8") == expected
    assert to_bytes(generate_jsonl(LG, 300, 9)) == expected


# --- properties over seeds and sizes ---------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**64), persons=st.integers(0, 60),
       rate=st.sampled_from([0.0, 0.5, 1.0]),
       lg_code=st.sampled_from(["131016", "011002", "473821", "131237"]))
def test_invariants_hold_for_any_seed_and_size(seed: int, persons: int, rate: float,
                                               lg_code: str) -> None:
    records = list(generate(lg_code, persons, seed, rate, fushou_rate=0.2))
    assert len(records) == persons
    check_households(records)
    for r in records:
        SeedResident.model_validate_json(encode_record(r))
        assert is_valid_my_number(r["my_number"]) and is_valid_mod11(r["atena_number"])
        assert r["address"]["lg_code"] == lg_code
    if rate == 1.0:
        assert all(map(is_hard, records))
    assert len({r["my_number"] for r in records}) == persons
