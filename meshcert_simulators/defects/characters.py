"""Negative controls of characters (CHAR-*): what a legacy character table does to names."""

from __future__ import annotations

import re
import unicodedata

from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import MOVEMENTS, rewrite_requests, strings

GETA = "〓"  # what legacy systems print for a character their table lacks
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _replace_non_bmp(text: str) -> str:
    """Kanji beyond the BMP (𠮷, 𩸽) become 〓; other characters are left as they are."""
    return "".join(GETA if ord(c) > 0xFFFF and unicodedata.category(c) == "Lo" else c
                   for c in text)


defect("replace-non-bmp", "municipal", "CHAR-MJ-001",
       "names and addresses of a movement lose their kanji outside the BMP (replaced by 〓)",
       wrap=rewrite_requests("POST", MOVEMENTS, lambda b: strings(b, _replace_non_bmp)))
defect("nfc-normalise-names", "municipal", "CHAR-MJ-002",
       "every text of a movement is NFC-normalised (神 U+FA19 becomes 神 U+795E)",
       wrap=rewrite_requests("POST", MOVEMENTS,
                             lambda b: strings(b, lambda s: unicodedata.normalize("NFC", s))))
defect("strip-variation-selectors", "municipal", "CHAR-IVS-001",
       "ideographic variation selectors are stripped from the texts of a movement",
       wrap=rewrite_requests("POST", MOVEMENTS,
                             lambda b: strings(b, lambda s: _VARIATION_SELECTORS.sub("", s))))
