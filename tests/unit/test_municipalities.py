"""The JIS X 0402 local government code list (fixtures/municipalities/jisx0402.csv)."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import pytest

from meshcert_simulators.common.identifiers import is_valid_local_government_code
from meshcert_simulators.common.municipalities import (
    CSV_PATH,
    Municipality,
    all_municipalities,
    lookup,
    municipalities_only,
)
from meshcert_simulators.common.text import KANA_PATTERN

KANA = re.compile(KANA_PATTERN)


def test_counts_47_prefectures_and_1741_municipalities() -> None:
    rows = all_municipalities()
    assert len(rows) == 1788
    assert sum(m.is_prefecture for m in rows) == 47
    assert len(municipalities_only()) == 1741
    assert not any(m.is_prefecture for m in municipalities_only())
    assert len({m.code for m in rows}) == 1788


def test_23_special_wards_of_tokyo() -> None:
    wards = [m for m in municipalities_only() if m.prefecture == "東京都" and m.city.endswith("区")]
    assert len(wards) == 23
    assert (wards[0].code, wards[-1].code) == ("131016", "131237")
    assert all("131016" <= w.code <= "131237" for w in wards)
    assert wards[-1].city == "江戸川区"


def test_known_rows() -> None:
    chiyoda = lookup("131016")
    assert chiyoda == Municipality("131016", "東京都", "千代田区", "トウキョウト", "チヨダク")
    assert chiyoda.name == "東京都千代田区"
    assert not chiyoda.is_prefecture
    hokkaido = lookup("010006")
    assert hokkaido.is_prefecture and hokkaido.name == "北海道" and hokkaido.city_kana == ""
    assert lookup("011002").city == "札幌市" and lookup("011002").city_kana == "サッポロシ"
    assert lookup("472085").name == "沖縄県浦添市"


def test_every_code_has_a_valid_check_digit() -> None:
    bad = [m.code for m in all_municipalities() if not is_valid_local_government_code(m.code)]
    assert bad == []


def test_kana_is_full_width_katakana_and_kanji_untouched() -> None:
    for m in all_municipalities():
        assert KANA.fullmatch(m.prefecture_kana), m
        assert m.is_prefecture or KANA.fullmatch(m.city_kana), m
        assert unicodedata.normalize("NFKC", m.city_kana) == m.city_kana
    # Kana that NFKC composes from half-width (ﾎﾞ -> ボ, ｯ -> ッ) arrived as single characters.
    assert lookup("011002").city_kana == "サッポロシ"


def test_file_shape() -> None:
    text = CSV_PATH.read_text(encoding="utf-8")
    assert text.startswith("code,prefecture,city,prefecture_kana,city_kana\n")
    assert "\r" not in text
    assert len(text.splitlines()) == 1789


def test_unknown_codes_raise_value_error_not_key_error() -> None:
    with pytest.raises(ValueError, match="unknown local government code '131017'"):
        lookup("131017")
    with pytest.raises(ValueError, match="6 ASCII digits"):
        lookup("13101")
    with pytest.raises(ValueError, match="6 ASCII digits"):
        lookup("１３１０１６")


def test_rows_are_immutable_and_cached() -> None:
    assert all_municipalities() is all_municipalities()
    with pytest.raises(dataclasses.FrozenInstanceError):
        lookup("131016").city = "x"  # type: ignore[misc]
