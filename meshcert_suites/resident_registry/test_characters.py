"""Names and addresses keep the full administrative character set exactly: kanji beyond the BMP,
variant forms, ideographic variation sequences; kana names are full-width (docs/domain.md §6.10)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from meshcert_suites.resident_registry.builders import (
    address_in,
    arrival,
    examples,
    juminhyo_code,
    person,
)


def spelled(text: str) -> str:
    """Text with the code point of every character, so a vendor sees what changed."""
    return f"{text!r} ({' '.join(f'U+{ord(c):04X}' for c in text)})"


def check_kept_exactly(clerk, surname: str, given_name: str, town: str) -> None:
    """Move a person in with these texts; the record must hold them code point for code
    point, in the movement result and when read back."""
    body = arrival(clerk.lg, person(surname, given_name, "02", kana=("テスト", "ハナコ")),
                   on=clerk.today() - timedelta(days=7))
    body["movement"]["address"] = address_in(clerk.lg, town=town, building=f"{town}ハイツ101")
    response = clerk.move(body)
    assert response.status_code in (200, 201), (
        f"a move-in of {spelled(surname)} {spelled(given_name)} living in {spelled(town)} was "
        f"refused with {response.status_code}: {response.text[:400]}")
    atena = response.json()["affected"][0]["atena_number"]
    stored = clerk.read(atena)
    sent = {"surname": surname, "given name": given_name, "town": town,
            "building": f"{town}ハイツ101"}
    kept = {"surname": stored["name"]["surname"], "given name": stored["name"]["given_name"],
            "town": stored["address"]["town"], "building": stored["address"].get("building")}
    changed = [f"{field}: sent {spelled(sent[field])}, kept {spelled(str(kept[field]))}"
               for field in sent if kept[field] != sent[field]]
    assert not changed, (f"the record of 宛名番号 {atena} does not hold its texts exactly:\n  "
                         + "\n  ".join(changed))


# -- CHAR-MJ-001 ------------------------------------------------------------------------------

# CJK Unified Ideographs Extension B to F (planes 2): kanji of the MJ set beyond the BMP.
beyond_bmp = st.characters(min_codepoint=0x20000, max_codepoint=0x2EBE0, categories=["Lo"])
common_kanji = st.sampled_from("田中山川野木村井本島原")


@st.composite
def names_beyond_bmp(draw: st.DrawFn) -> str:
    rare = draw(st.lists(beyond_bmp, min_size=1, max_size=2))
    common = draw(st.lists(common_kanji, max_size=2))
    return "".join(draw(st.permutations(rare + common)))


@pytest.mark.requirement("CHAR-MJ-001")
@examples(6)
@given(surname=names_beyond_bmp(), given_name=names_beyond_bmp())
@example(surname="\U00020bb7田", given_name="\U00029e3d")  # 𠮷田 𩸽
def test_names_with_kanji_beyond_the_bmp_are_kept_exactly(clerk, surname, given_name):
    check_kept_exactly(clerk, surname, given_name, town=f"{surname}町")


# -- CHAR-MJ-002 ------------------------------------------------------------------------------

# Variant forms used in names (髙 for 高, 﨑 for 崎, 邉/邊 for 辺, 齋 for 斎) and CJK compatibility
# ideographs, some of which Unicode normalisation would silently replace (神 U+FA19 → U+795E).
VARIANTS = "\u9ad9\ufa11\u9089\u908a\u9f4b\u6ff5\u69d7\u5fb7"
compatibility = st.characters(min_codepoint=0xF900, max_codepoint=0xFAD9, categories=["Lo"])


@st.composite
def variant_names(draw: st.DrawFn) -> str:
    rare = draw(st.lists(st.one_of(st.sampled_from(VARIANTS), compatibility), min_size=1,
                         max_size=3))
    common = draw(st.lists(common_kanji, max_size=1))
    return "".join(draw(st.permutations(rare + common)))


@pytest.mark.requirement("CHAR-MJ-002")
@examples(6)
@given(surname=variant_names(), given_name=variant_names())
@example(surname="\u9ad9\ufa11", given_name="\ufa19")  # 髙﨑 神 (U+FA19)
@example(surname="\u6e21\u9089", given_name="\ufa1a\u5b50")  # 渡邉 祥子 (U+FA1A)
def test_variant_forms_are_not_normalised(clerk, surname, given_name):
    check_kept_exactly(clerk, surname, given_name, town=f"{given_name}{surname}町")


# -- CHAR-IVS-001 -----------------------------------------------------------------------------

# Registered ideographic variation sequences (Adobe-Japan1 / Moji_Joho collections).
IVS = ["\u845b\U000e0100", "\u845b\U000e0101", "\u8fbb\U000e0100", "\u8fbb\U000e0101",
       "\u9089\U000e0100", "\u9089\U000e0101"]


@st.composite
def names_with_selectors(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(IVS), min_size=1, max_size=2))
    common = draw(st.lists(common_kanji, max_size=2))
    return "".join(draw(st.permutations(parts + common)))


@pytest.mark.requirement("CHAR-IVS-001")
@examples(6)
@given(surname=names_with_selectors(), given_name=names_with_selectors())
@example(surname="\u845b\U000e0100\u897f", given_name="\u8fbb\U000e0101")  # 葛󠄀西 辻󠄁
def test_ideographic_variation_selectors_are_kept(clerk, surname, given_name):
    check_kept_exactly(clerk, surname, given_name, town=f"{surname}町")


# -- CHAR-KANA-001 ----------------------------------------------------------------------------

half_width_kana = st.text(alphabet=[chr(c) for c in range(0xFF66, 0xFFA0)], min_size=1,
                          max_size=8)


@pytest.mark.requirement("CHAR-KANA-001")
@examples(5)
@given(kana=half_width_kana)
@example(kana="\uff94\uff8f\uff80\uff9e")  # ﾔﾏﾀﾞ
def test_half_width_kana_in_a_kana_name_is_refused(clerk, kana):
    assert any(unicodedata.east_asian_width(c) == "H" for c in kana)
    code = juminhyo_code()
    body = arrival(clerk.lg, person("山田", "太郎", "02", kana=(kana, "タロウ"),
                                    juminhyo_code=code), on=clerk.today() - timedelta(days=7))
    response = clerk.move(body)
    assert response.status_code == 422, (
        f"a move-in with the half-width kana name {spelled(kana)} was answered "
        f"{response.status_code}, not refused with 422: {response.text[:400]}")
    found = clerk.find(code)
    assert found.status_code == 404, (
        f"the refused person (住民票コード {code}) was stored anyway: {found.text[:400]}")
