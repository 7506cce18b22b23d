"""The authorization server serves exactly its committed contract
(fixtures/specs/authz.openapi.json), documents the answers it gives — the RFC 6749 §5.2 error
JSON (400) as well as the token (200) — and passes Schemathesis against it in-process."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.registry import create_app
from meshcert_simulators.specs import contract_path, dump, served_spec
from tests.api.mesh_support import client_for

CONTRACT: dict[str, Any] = json.loads(contract_path("authz").read_text(encoding="utf-8"))
TOKEN = CONTRACT["paths"]["/oauth/token"]["post"]


def test_served_authz_document_equals_the_committed_contract():
    committed = contract_path("authz").read_text(encoding="utf-8")
    assert dump(served_spec("authz")) == committed, (
        "the authorization server's OpenAPI document drifted from "
        "fixtures/specs/authz.openapi.json; if the change is deliberate, regenerate it "
        "(python -m meshcert_simulators.specs) and review the diff")


def _validator(response: dict[str, Any], media_type: str) -> Any:
    """A validator for one documented answer, from the committed contract only."""
    schema = {**response["content"][media_type]["schema"],
              "components": CONTRACT["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def _app() -> Any:
    return create_app(Settings(name="authz", topology=load_topology(None),
                               data_dir=Path(_DATA.name), access_log=False))


# Removed when the interpreter exits (the app is built at import, for collection).
_DATA = tempfile.TemporaryDirectory(prefix="meshcert-authz-schemathesis-")


@pytest.mark.parametrize(("form", "error"), [
    ({}, "invalid_request"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials"}, "invalid_client"),
    ({"grant_type": "client_credentials", "client_assertion_type":
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "x.y.z"},
     "invalid_client"),
])
def test_refused_token_requests_are_the_documented_rfc6749_error(
        form: dict[str, str], error: str):
    assert set(TOKEN["responses"]) >= {"200", "400"}
    with client_for(_app()) as client:
        answer = client.post("/oauth/token", data=form,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["error"] == error
    _validator(TOKEN["responses"]["400"], "application/json").validate(body)


def test_a_body_that_is_not_a_form_is_the_documented_415_problem():
    with client_for(_app()) as client:
        answer = client.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert answer.status_code == 415
    _validator(TOKEN["responses"]["415"], "application/problem+json").validate(answer.json())


APP = _app()
schema = schemathesis.openapi.from_dict(CONTRACT)
schema.app = APP


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_authz_conforms_to_its_contract(case):
    case.call_and_validate(**CONFORMANCE_CHECKS)
