"""The holder-name rules of meshcert_simulators/accounts/holder_name.py, as properties: a name
matches its own registered kana name however its small kana and separator are written, and
never matches a name that differs in any other character."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from meshcert_simulators.accounts.holder_name import (
    MAX_LENGTH,
    HolderNameError,
    bank_reading,
    checked_holder_name,
    matches,
)

SMALL_TO_LARGE = dict(zip("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ", strict=True))
# Katakana a name may hold (U+30A1-U+30FA, ー), the small forms among them.
KATAKANA = [chr(c) for c in range(0x30A1, 0x30FB)] + ["ー"]
part = st.text(st.sampled_from(KATAKANA), min_size=1, max_size=12)
separator = st.sampled_from(["\u3000", " "])


def large(text: str) -> str:
    return "".join(SMALL_TO_LARGE.get(c, c) for c in text)


@given(part, part, separator)
def test_a_registered_name_matches_itself_with_either_separator(surname, given_name, space):
    holder = checked_holder_name(f"{surname}{space}{given_name}")
    assert matches(holder, surname, given_name)


@given(part, part, separator)
def test_small_kana_written_large_still_match(surname, given_name, space):
    holder = checked_holder_name(f"{large(surname)}{space}{large(given_name)}")
    assert matches(holder, surname, given_name)


@given(part, part, st.integers(min_value=0), st.sampled_from(KATAKANA))
def test_any_other_changed_character_does_not_match(surname, given_name, at, replacement):
    name = f"{surname}\u3000{given_name}"
    index = at % len(name)
    assume(name[index] != "\u3000")
    changed = name[:index] + replacement + name[index + 1:]
    # Differing only as a bank reads alike (small/large, ヰ/イ, ヱ/エ) is the same name.
    assume(bank_reading(changed) != bank_reading(name))
    assert not matches(checked_holder_name(changed), surname, given_name)


@given(part, part)
def test_the_reading_is_idempotent_and_has_no_small_kana(surname, given_name):
    reading = bank_reading(f"{surname} {given_name}")
    assert bank_reading(reading) == reading
    assert not set(reading) & set(SMALL_TO_LARGE)
    assert reading.count("\u3000") == 1 and " " not in reading


@given(part, part)
def test_a_decomposed_voiced_mark_is_the_composed_name(surname, given_name):
    name = f"{surname}\u3000{given_name}"
    decomposed = unicodedata.normalize("NFD", name)
    assert checked_holder_name(decomposed) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize("holder", [
    "ヤマダタロウ", " ヤマダ　タロウ", "ヤマダ　タロウ ", "ヤマダ  タロウ", "ヤマダ　タ　ロウ",
    "やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "YAMADA TARO", "ヤマダ　タロウ1", "ヤマダ　タ-ロウ",
    "ア" * MAX_LENGTH + "　イ",
])
def test_names_that_break_a_rule_are_refused(holder):
    with pytest.raises(HolderNameError):
        checked_holder_name(holder)


def test_the_long_vowel_is_significant():
    assert not matches("サトー　タロウ", "サトウ", "タロウ")
    assert matches("サトー　タロウ", "サトー", "タロウ")
