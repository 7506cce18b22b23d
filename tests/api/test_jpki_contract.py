"""The JPKI-like CA serves exactly its committed contract, and passes Schemathesis against it
in-process (with the registry in-process behind it), with the shared replacement for
``positive_data_acceptance`` (meshcert.certify.contract_checks): a card of an unknown person
(404), a malformed base64 payload (422 invalid-base64) are business refusals with their own
types; schema-valid data must never meet the schema validator itself."""

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
    committed = contract_path("jpki").read_text(encoding="utf-8")
    assert dump(served_spec("jpki")) == committed, (
        "the served OpenAPI document drifted from fixtures/specs/jpki.openapi.json; if the "
        "change is deliberate, run `python -m meshcert_simulators.specs` and review the diff")


def test_the_contract_documents_the_crl_as_der_and_the_repository_as_public():
    spec = json.loads(contract_path("jpki").read_text(encoding="utf-8"))
    crl = spec["paths"]["/crl"]["get"]
    assert "application/pkix-crl" in crl["responses"]["200"]["content"]
    for path in ("/crl", "/v1/ca", "/v1/status/{serial}", "/v1/certificates/{serial}"):
        assert spec["paths"][path]["get"]["security"] == []
    assert "security" not in spec["paths"]["/v1/cards/{juminhyo_code}/sign"]["post"]


# Removed when the interpreter exits (the apps are built at import, for collection).
_DATA = tempfile.TemporaryDirectory(prefix="meshcert-jpki-schemathesis-")


@asynccontextmanager
async def _no_shutdown(_app):  # type: ignore[no-untyped-def]
    yield


def _app():  # type: ignore[no-untyped-def]
    app = build_mesh(Path(_DATA.name))["jpki"]
    # Schemathesis ends an ASGI app's lifespan after each test (closing the database); this
    # app lives for the whole module.
    app.router.lifespan_context = _no_shutdown
    return app


schema = schemathesis.openapi.from_dict(json.loads(contract_path("jpki").read_text()))
schema.app = _app()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_jpki_conforms_to_its_contract(case):
    case.call_and_validate(headers=bearer(ADMIN), **CONFORMANCE_CHECKS)
