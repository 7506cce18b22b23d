"""An unknown 符号 gets the fixed answer (PRV-CODE-001, docs/domain.md §6.5).

The fixed answer on the provider side is the contract's "no data" line: HTTP 200, line status
``09``, the asked item with status ``02`` and no payload. It is not an HTTP error: the mesh passes
on only a 200 answer of the contract and turns anything else into ``provider-bad-answer``, so an
inquirer asking about someone the provider does not hold would see a failure instead of "no
data". Two kinds of unknown code are asked: one the mesh never issued to anyone the provider
holds, and the code the *same* seeded person has at another institution (符号 are per
institution: it must mean nothing here).
"""

from __future__ import annotations

import pytest

from meshcert_suites.information_provider.mesh_side import (
    OTHER_INSTITUTION,
    Asked,
    code_for,
    person_key,
)


def _assert_no_data(asked: Asked) -> None:
    assert asked.response.status_code == 200, (
        f"an unknown 符号 must be answered 200 with the no-data line: {asked.describe()}")
    body = asked.response.json()
    assert body.get("status") == "09", asked.describe()
    entry = asked.answered_item()
    assert entry is not None, f"the answer has no entry for the asked item: {asked.describe()}"
    assert entry.get("status") == "02" and entry.get("payload") is None, (
        f"an unknown 符号 must give item status 02 with no payload: {asked.describe()}")


@pytest.mark.requirement("PRV-CODE-001")
def test_a_code_never_issued_is_answered_no_data(mesh, provider, item, persons):
    asked = mesh.ask(code_for(provider.institution, "a-person-the-provider-never-held"), item)
    _assert_no_data(asked)


@pytest.mark.requirement("PRV-CODE-001")
def test_a_seeded_persons_code_at_another_institution_is_answered_no_data(mesh, provider, item,
                                                                         persons):
    assert provider.institution != OTHER_INSTITUTION
    elsewhere = code_for(OTHER_INSTITUTION, person_key(0))
    assert elsewhere != persons[0].code
    _assert_no_data(mesh.ask(elsewhere, item))
