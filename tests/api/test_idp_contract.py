"""The provider serves exactly its committed contract (fixtures/specs/idp.openapi.json), its
OAuth errors are the documented RFC 6749 JSON, and it passes Schemathesis against the contract
in-process (malformed input is never a 500)."""

from __future__ import annotations

import json
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from meshcert_simulators.specs import contract_path, dump, served_spec
from tests.api.idp_support import TestClient, admin, idp_topology

CONTRACT: dict[str, Any] = json.loads(contract_path("idp").read_text(encoding="utf-8"))


def test_served_idp_document_equals_the_committed_contract():
    committed = contract_path("idp").read_text(encoding="utf-8")
    assert dump(served_spec("idp")) == committed, (
        "the provider's OpenAPI document drifted from fixtures/specs/idp.openapi.json; if the "
        "change is deliberate, regenerate it (python -m meshcert_simulators.specs) and review "
        "the diff")


def test_the_contract_keeps_the_control_plane_out():
    assert not [p for p in CONTRACT["paths"] if p.startswith(("/_meshcert", "/admin"))]
    assert {"/authorize", "/authorize/decision", "/token", "/userinfo", "/jwks",
            "/.well-known/openid-configuration", "/introspect"} <= set(CONTRACT["paths"])


_DATA = tempfile.TemporaryDirectory(prefix="meshcert-idp-schemathesis-")


@asynccontextmanager
async def _no_shutdown(_app):  # type: ignore[no-untyped-def]
    yield


def _app() -> Any:
    data = Path(_DATA.name)
    topology = idp_topology()
    app = create_app(Settings(name="idp", topology=topology, data_dir=data / "idp",
                              access_log=False))
    app.router.lifespan_context = _no_shutdown
    app.state.http_transport = httpx.ASGITransport(app=create_app(Settings(
        name="municipal", topology=topology, data_dir=data / "municipal", access_log=False)))
    return app


APP = _app()


@pytest.mark.parametrize("form", [
    {}, {"grant_type": "password"}, {"grant_type": "authorization_code"},
    {"grant_type": "authorization_code", "client_assertion_type":
     "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "x.y.z"},
])
def test_refused_token_requests_are_the_documented_rfc6749_error(form: dict[str, str]):
    response = CONTRACT["paths"]["/token"]["post"]["responses"]["400"]
    validator = jsonschema_rs.Draft202012Validator(
        {**response["content"]["application/json"]["schema"],
         "components": CONTRACT["components"]})
    with TestClient(APP, raise_server_exceptions=False) as client:
        answer = client.post("/token", data=form)
    assert answer.status_code == 400
    validator.validate(answer.json())


schema = schemathesis.openapi.from_dict(CONTRACT)
schema.app = APP


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_idp_conforms_to_its_contract(case):
    case.call_and_validate(headers=admin(), **CONFORMANCE_CHECKS)
