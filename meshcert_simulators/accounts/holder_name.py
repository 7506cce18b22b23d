"""The account holder name (口座名義カナ) and how it is matched to the registry's kana name.

A public-fund account must be in the person's own name, so the holder name the person gives is
compared with the kana name the resident registry holds (surname U+3000 given name). Banks keep
holder names in the 全銀 character set, which has no small kana and writes them as their large
forms, so the comparison is made the way a bank reads a name, not character for character.

Rules of the holder name as sent (anything else is refused, 422):

1. Full-width katakana only (ァ-ヺ, incl. ヴ and small kana), the long vowel mark ー, and the
   separator. Hiragana, half-width katakana (ｶﾀｶﾅ), latin letters, digits and symbols are
   refused: the registry's name is full-width katakana, and guessing a conversion for the
   person would hide a typing mistake. A voiced mark sent decomposed (カ + U+3099) is composed
   first (NFC), so it is the same name as ガ.
2. Exactly one separator between surname and given name: one space, full-width (U+3000) or
   half-width (U+0020). No leading or trailing space, no second space — the registry knows
   where the surname ends, and so must the holder name.
3. At most 30 characters (the width of the 全銀 name field, 30 half-width characters; a
   holder name needing more is refused rather than cut).

Comparison (the bank's reading), applied to both the holder name and the registry's name:

- small kana read as their large forms: ァィゥェォ→アイウエオ, ッ→ツ, ャュョ→ヤユヨ, ヮ→ワ,
  ヵ→カ, ヶ→ケ (so キャ matches キヤ: 全銀 has no small kana, ｷﾔ is how a bank writes it);
- ヰ→イ and ヱ→エ (not in the 全銀 set; banks write the modern forms); ヲ stays (ｦ is in it);
- the long vowel mark ー is significant (サトウ ≠ サトー: they are different registered
  names; a bank keeps it as ｰ), and a dash in its place is refused by rule 1, not guessed;
- the separator reads as one U+3000, whichever space was sent.

The name matches when both readings are equal. The holder name is stored as sent (after NFC),
so an agency receives what the person entered.
"""

from __future__ import annotations

import re
import unicodedata

SEPARATOR = "\u3000"
MAX_LENGTH = 30
# Full-width katakana incl. small forms and ヴ (U+30A1-U+30FA), ー, and the two spaces.
HOLDER_PATTERN = r"^[\u30A1-\u30FA\u30FC]+[\u3000 ][\u30A1-\u30FA\u30FC]+$"
_HOLDER = re.compile(HOLDER_PATTERN)
# What the wire admits before composition: the above plus combining (semi-)voiced marks.
WIRE_PATTERN = r"^[\u30A1-\u30FA\u30FC\u3099\u309A\u3000 ]+$"
# What a bank writes for each character the 全銀 set lacks.
_BANK_FORM = str.maketrans({
    "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ッ": "ツ", "ャ": "ヤ",
    "ュ": "ユ", "ョ": "ヨ", "ヮ": "ワ", "ヵ": "カ", "ヶ": "ケ", "ヰ": "イ", "ヱ": "エ",
    " ": SEPARATOR,
})


class HolderNameError(ValueError):
    """A holder name that breaks a rule of the module docstring; the message names which."""


def checked_holder_name(value: str) -> str:
    """``value`` composed (NFC) if it follows rules 1-3, else HolderNameError."""
    name = unicodedata.normalize("NFC", value)
    if len(name) > MAX_LENGTH:
        raise HolderNameError(f"the holder name has {len(name)} characters; at most "
                              f"{MAX_LENGTH} (the 全銀 name field)")
    if not _HOLDER.fullmatch(name):
        if name.count(" ") + name.count(SEPARATOR) != 1 or name[0] in " \u3000" \
                or name[-1] in " \u3000":
            raise HolderNameError("write the surname and the given name with one space "
                                  "between them (full-width or half-width), none elsewhere")
        raise HolderNameError("the holder name must be full-width katakana (ァ-ヺ) and ー; "
                              "no hiragana, half-width kana, letters, digits or symbols")
    return name


def bank_reading(name: str) -> str:
    """How a bank reads ``name``: composed, small kana large, ヰヱ modern, one
    U+3000 between the parts."""
    return unicodedata.normalize("NFC", name).translate(_BANK_FORM)


def registry_kana(surname_kana: str, given_name_kana: str) -> str:
    """The registry's kana name in the holder-name form (surname U+3000 given name)."""
    return f"{surname_kana}{SEPARATOR}{given_name_kana}"


def matches(holder: str, surname_kana: str, given_name_kana: str) -> bool:
    """Whether ``holder`` (already checked) is the registry's kana name as a bank reads it."""
    return bank_reading(holder) == bank_reading(registry_kana(surname_kana, given_name_kana))
