"""What a provider answers (PRV-ITEM-001, PRV-DATA-001): exactly the item the mesh asked for,
in the contract's shape and nothing more, carrying the figures it holds for that 符号.

The shape is the committed contract's (fixtures/specs/tax.openapi.json, or the defined
service's openapi.json; the 200 answer of ``POST /v1/provisions``): line status ``09``; per item
``01`` provided (payload: the item's schema, e.g. ``TaxPayload``, no other field), ``03`` not
provided (an item the system does not hold; payload null). Nothing of the reference's code is
used to judge.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshcert_suites.information_provider.contract import Contract
from meshcert_suites.information_provider.mesh_side import Asked

ASKED = 4  # seeded persons asked per test
PROVIDE = ("POST", "/v1/provisions")
# The resident-tax item states its total: 所得割 + 均等割.
TAX_ITEM = "TM00000000000002"


def _answer(asked: Asked, contract: Contract) -> dict[str, Any]:
    """The 200 answer, once it conforms to the contract."""
    assert asked.response.status_code == 200, asked.describe()
    try:
        body = asked.response.json()
    except ValueError:
        raise AssertionError(f"the answer is no JSON: {asked.describe()}") from None
    wrong = contract.violations(body, *PROVIDE)
    assert not wrong, (f"{asked.describe()}\nnot the contract's answer shape "
                       f"({contract.path.name}): " + "; ".join(wrong[:5]))
    return dict(body)


@pytest.mark.requirement("PRV-ITEM-001")
def test_an_answer_carries_only_the_asked_item_in_the_contracts_shape(mesh, persons, item,
                                                                     contract):
    for person in persons[:ASKED]:
        asked = mesh.ask(person.code, item)
        answer = _answer(asked, contract)
        assert answer["status"] == "09", asked.describe()
        assert [i["item_code"] for i in answer["items"]] == [item], (
            f"asked for item {item} only, the answer has items "
            f"{[i['item_code'] for i in answer['items']]}: {asked.describe()}")
        [entry] = answer["items"]
        assert entry["status"] == "01" and entry.get("payload") is not None, asked.describe()


@pytest.mark.requirement("PRV-ITEM-001")
def test_an_item_the_provider_does_not_hold_is_answered_not_provided(mesh, persons, provider,
                                                                     foreign_item, contract):
    assert foreign_item not in provider.item_codes
    asked = mesh.ask(persons[0].code, foreign_item)
    answer = _answer(asked, contract)
    assert answer["status"] == "09", asked.describe()
    assert [(i["item_code"], i["status"], i.get("payload")) for i in answer["items"]] == \
        [(foreign_item, "03", None)], (
        f"an item the provider does not hold must come back as status 03 with no payload, "
        f"and nothing else: {asked.describe()}")


@pytest.mark.requirement("PRV-DATA-001")
def test_the_provided_item_carries_the_figures_held_for_that_code(mesh, persons, item):
    for person in persons[:ASKED]:
        asked = mesh.ask(person.code, item)
        entry = asked.answered_item()
        assert entry is not None and entry.get("status") == "01", asked.describe()
        payload = entry["payload"]
        held = {k: payload.get(k) for k in person.figures}
        assert held == person.figures, (
            f"for 符号 {person.code} the provider holds {person.figures}, it answered {held}")
        if item != TAX_ITEM:
            continue
        expected_total = person.figures["income_levy"] + person.figures["per_capita_levy"]
        assert payload.get("total_levy") == expected_total, (
            f"total_levy must be 所得割 + 均等割 = {expected_total}, it is "
            f"{payload.get('total_levy')}: {asked.describe()}")
