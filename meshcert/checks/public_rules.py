"""The public rules the suites judge identifiers and dates by (docs/domain.md#identifiers,
invariants 8 and 9).

These are not the reference's choices but published formulas and tables: the My Number check
digit (総務省令第八十五号 第五条), the local government code check digit (総務省), modulus 11 for
宛名番号/世帯番号 (and the harness's stated assumption [I] for 住民票コード), and the era table
``fixtures/calendar/eras.yaml``. Each is implemented once, in meshcert_simulators/common, and
shared by the
simulators and the harness; the suites take them from here (tests/unit/test_suite_imports.py
keeps meshcert_suites/ free of simulator imports).
"""

from __future__ import annotations

from meshcert_simulators.common.identifiers import (
    is_issuable_mod11_body,
    is_valid_local_government_code,
    is_valid_mod11,
    is_valid_my_number,
    local_government_code_check_digit,
    mod11_check_digit,
    my_number_check_digit,
)
from meshcert_simulators.common.japanese_calendar import to_wareki

__all__ = ["is_issuable_mod11_body", "is_valid_local_government_code", "is_valid_mod11",
           "is_valid_my_number", "local_government_code_check_digit", "mod11_check_digit",
           "my_number_check_digit", "to_wareki"]
