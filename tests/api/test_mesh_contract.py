"""The mesh serves exactly its committed contract, and passes Schemathesis against it
(in-process, as tests/api/test_contract.py does for the registry, with the same replacement
for ``positive_data_acceptance``: the mesh's business refusals — 符号が未取得, not permitted, a
duplicate record id — have their own problem types; schema-valid data must never meet the
schema validator's ``validation-error``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.specs import contract_path, dump, served_spec
from tests.api.mesh_support import CHILD, FakeProvider, auth, mesh_app, mesh_topology


def test_served_mesh_document_equals_the_committed_contract():
    committed = contract_path("mesh").read_text(encoding="utf-8")
    assert dump(served_spec("mesh")) == committed, (
        "the mesh's OpenAPI document drifted from fixtures/specs/mesh.openapi.json; if the "
        "change is deliberate, regenerate it (python -m meshcert_simulators.specs) and review the "
        "diff")


_DATA = tempfile.TemporaryDirectory(prefix="meshcert-mesh-schemathesis-")
APP = mesh_app(Path(_DATA.name))
APP.state.provider_transport = httpx.ASGITransport(app=FakeProvider().app())
AUTH = auth(mesh_topology(), CHILD)
schema = schemathesis.openapi.from_dict(json.loads(contract_path("mesh").read_text()))
schema.app = APP




@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_mesh_conforms_to_its_contract(case):
    case.call_and_validate(headers=AUTH, **CONFORMANCE_CHECKS)
