"""Checks the suites share to judge what a system under test sent (one concept, one place).

``identifiers``: the one detector of identifiers that must not cross a boundary — any My
Number, and the known My Numbers, 住民票コード and other institutions' 符号 the harness seeded —
in every form and place (docs/domain.md, invariants 1 and 2).
"""

from meshcert.checks.identifiers import (
    Leak,
    Parts,
    ensure_no_identifiers,
    exchange_parts,
    find_identifiers,
)

__all__ = ["Leak", "Parts", "ensure_no_identifiers", "exchange_parts", "find_identifiers"]
