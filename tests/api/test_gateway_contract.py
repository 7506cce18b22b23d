"""The gateway serves exactly its committed contract (the control plane stays out of it), and
passes Schemathesis against it in-process — the registry, the CA and a provider stand-in
behind it — with the shared replacement for ``positive_data_acceptance``
(meshcert.certify.contract_checks): consent refusals (bad evidence, unknown client) have their
own problem types; schema-valid data must never meet the schema validator itself."""

from __future__ import annotations

import json
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.specs import contract_path, dump, served_spec
from tests.api.jpki_gateway_support import ADMIN, bearer, build_mesh


def test_served_document_equals_the_committed_contract():
    committed = contract_path("gateway").read_text(encoding="utf-8")
    assert dump(served_spec("gateway")) == committed, (
        "the served OpenAPI document drifted from fixtures/specs/gateway.openapi.json; if the "
        "change is deliberate, run `python -m meshcert_simulators.specs` and review the diff")


def test_the_contract_leaves_the_control_plane_out_and_documents_429():
    spec = json.loads(contract_path("gateway").read_text(encoding="utf-8"))
    assert not [p for p in spec["paths"] if p.startswith("/_meshcert")]
    facts = spec["paths"]["/v1/basic-facts"]["get"]["responses"]
    assert {"401", "403", "429"} <= set(facts)
    assert "my_number" not in json.dumps(spec["components"]["schemas"]["BasicFacts"])


_DATA = tempfile.TemporaryDirectory(prefix="meshcert-gateway-schemathesis-")


@asynccontextmanager
async def _no_shutdown(_app):  # type: ignore[no-untyped-def]
    yield


def _app():  # type: ignore[no-untyped-def]
    app = build_mesh(Path(_DATA.name))["gateway"]
    app.router.lifespan_context = _no_shutdown  # one app (and database) for the module
    return app


schema = schemathesis.openapi.from_dict(json.loads(contract_path("gateway").read_text()))
schema.app = _app()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_gateway_conforms_to_its_contract(case):
    case.call_and_validate(headers=bearer(ADMIN), **CONFORMANCE_CHECKS)
