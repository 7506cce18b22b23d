"""Rules for personal text: kept exactly as given, never normalised or replaced.

Names and addresses must carry the full administrative character set (rare kanji outside the BMP,
variant forms such as 髙 or 﨑, ideographic variation sequences). So nothing here rewrites text; it
only refuses what cannot be stored faithfully (lone surrogates) or is not text (control
characters).
"""

from __future__ import annotations

import re
import unicodedata

# Katakana (incl. ヴ, small forms, ー) and the ideographic/ASCII space between parts of a name.
KANA_PATTERN = r"^[\u30A1-\u30FA\u30FC\u3000 ]+$"
# Any text but control characters (Unicode category Cc); published in the contracts' schemas.
TEXT_PATTERN = r"^[^\u0000-\u001F\u007F-\u009F]+$"
_KANA = re.compile(KANA_PATTERN)


def check_text(value: str) -> str:
    """Return ``value`` unchanged, or raise ValueError naming the first character refused."""
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError(f"lone surrogate U+{ord(char):04X} at position {index}: send the "
                             "character as one code point (UTF-8), not as half of a pair")
        if category == "Cc":
            raise ValueError(f"control character U+{ord(char):04X} at position {index}")
    return value


def check_kana(value: str) -> str:
    """Full-width katakana only (as resident records hold kana names)."""
    if not _KANA.fullmatch(value):
        raise ValueError("kana must be full-width katakana (ァ-ヺ, ー) and spaces only")
    return value
