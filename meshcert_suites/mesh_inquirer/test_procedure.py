"""INQ-PROC-001: every inquiry names the procedure, item and provider its legal basis permits —
児童手当 (JT01010000000214) asking 地方税関係情報 (TM00000000000002) of the resident-tax
provider — and nothing beyond it."""

from __future__ import annotations

import pytest

from meshcert_suites.mesh_inquirer.conftest import (
    PROCEDURE,
    TAX_ITEM,
    TAX_PROVIDER,
    Person,
    codes_issued,
    inquiry_body,
)


@pytest.mark.requirement("INQ-PROC-001")
def test_every_inquiry_names_the_permitted_procedure_item_and_provider(inquirer, mesh,
                                                                       recorded_mesh, tax):
    people = [Person.fresh(), Person.fresh("髙橋 誠")]
    tax.seed(people[0])  # the second has no figures: asked the same way
    after = mesh.last_seq()
    inquirer.wait([inquirer.submit(p) for p in people], inquirer.give_up_within_s + 2)
    sent = mesh.exchanges(recorded_mesh, after)
    codes = set().union(*(codes_issued(sent, p) for p in people))
    inquiries = [inquiry_body(e) for e in sent if e["path"] == "/v1/inquiries"
                 and inquiry_body(e).get("code") in codes]
    assert inquiries, "the inquirer sent no inquiry to the mesh for its applications"
    wrong = [(i.get("record_id"), i.get("procedure_code"), i.get("item_code"), i.get("provider"))
             for i in inquiries
             if (i.get("procedure_code"), i.get("item_code"), i.get("provider"))
             != (PROCEDURE, TAX_ITEM, TAX_PROVIDER)]
    assert not wrong, (
        f"inquiries outside the permitted ({PROCEDURE}, {TAX_ITEM}, {TAX_PROVIDER}) "
        f"(record id, procedure, item, provider): {wrong}")
