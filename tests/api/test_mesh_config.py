"""The mesh's configuration: the legal-basis table and the topology's institutions."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from meshcert_simulators.common.topology import TopologyError, load_topology
from meshcert_simulators.mesh.legal_basis import LegalBasisError, load_legal_basis
from tests.api.mesh_support import CHILD, CHILD_PROC, MESH_TOPOLOGY, TAX, TAX_ITEM


def test_the_seeded_table_loads_and_permits_by_date():
    table = load_legal_basis()
    assert table.version == "2026.1"
    assert table.permits(CHILD_PROC, CHILD, TAX, TAX_ITEM, date(2026, 1, 1)) is not None
    assert table.permits(CHILD_PROC, TAX, CHILD, TAX_ITEM, date(2026, 1, 1)) is None
    expired = [r for r in table.rules if r.valid_to is not None]
    assert expired and all(not r.valid_on(date(2026, 1, 1)) for r in expired)


def test_a_bad_table_reports_every_problem_with_its_path(tmp_path):
    bad = tmp_path / "legal-basis-bad.yaml"
    bad.write_text(yaml.safe_dump({"version": "x", "rules": [
        {"procedure_code": "JT0101", "inquirer": "a", "provider": "b",
         "item_code": "TM00000000000002", "valid_from": "2024-04-01", "valid_to": None},
        {"procedure_code": "JT01010000000214", "inquirer": "a", "provider": "b",
         "item_code": "XX", "valid_from": "2024-04-01", "valid_to": "2023-01-01"}]}))
    with pytest.raises(LegalBasisError) as err:
        load_legal_basis(bad)
    text = str(err.value)
    assert "rules.0.procedure_code" in text and "rules.1.item_code" in text
    with pytest.raises(LegalBasisError, match="no such"):
        load_legal_basis(tmp_path / "missing.yaml")


def test_old_topologies_still_load_without_institutions():
    assert load_topology().institutions == ()


def test_the_mesh_topology_names_its_institutions():
    topo = load_topology(MESH_TOPOLOGY)
    tax = topo.institution(TAX)
    assert tax is not None and tax.route == "realtime" and tax.roles == ("provider",)
    assert topo.institution_of_client("mesh-child-allowance").code == CHILD


@pytest.mark.parametrize(("change", "expected"), [
    (lambda i: i[2].pop("route"), "needs 'route'"),
    (lambda i: i[2].update(url="http://127.0.0.1:1"), "exactly one of"),
    (lambda i: i[0].update(client="nobody"), "is not a client of this topology"),
    (lambda i: i[1].update(code=i[0]["code"]), "used twice"),
    (lambda i: i[0].update(route="copy"), "is not a provider"),
    (lambda i: i[3].update(url=None, simulator="nowhere"), "not a simulator of this topology"),
])
def test_bad_institutions_are_reported(tmp_path, change, expected):
    raw = yaml.safe_load(MESH_TOPOLOGY.read_text(encoding="utf-8"))
    change(raw["institutions"])
    path = tmp_path / "topo.yaml"
    raw["issuer"]["jwks"] = str(MESH_TOPOLOGY.parent / raw["issuer"]["jwks"])
    raw["simulators"]["authz"]["signing_key"] = str(
        MESH_TOPOLOGY.parent / raw["simulators"]["authz"]["signing_key"])
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TopologyError, match=expected):
        load_topology(path)
