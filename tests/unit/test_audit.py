"""The operation log's hash input (meshcert_simulators.common.audit): the documented canonical
JSON."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from meshcert_simulators.common import audit

# Text as it reaches the log (decoded UTF-8: no lone surrogates), and the other field types.
FIELD = st.one_of(st.text(st.characters(exclude_categories=["Cs"])),
                  st.integers(min_value=0, max_value=2**62), st.booleans(), st.none())


@given(st.lists(FIELD, max_size=9))
def test_canonical_is_the_documented_compact_json(fields: list[object]) -> None:
    documented = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    assert audit.canonical(fields) == documented.encode("utf-8")


def test_an_entry_hash_follows_the_documented_rule() -> None:
    fields = ["131016", 7, "2026-11-26T00:00:00.000001+00:00", "demo-clerk", "resident.read",
              "0633853568", True, "req-1", "0" * 64]
    expected = hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
                              .encode("utf-8")).hexdigest()
    assert audit.entry_hash(*fields) == expected  # type: ignore[arg-type]
