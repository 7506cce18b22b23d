"""Only the mesh may ask a provider (PRV-AUTH-001): zero trust, every request authorised. A
request without a token is refused 401 with a challenge; a valid access token of another
client of the mesh (an auditor: same issuer, same audience, the audit scope, no provide scope)
is refused 403 —
and neither gets any data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from meshcert.checks import ensure_bearer_challenge
from meshcert_suites.information_provider.mesh_side import AUDITOR, PROCEDURE, opaque_id


def _provision(code: str, item: str) -> dict[str, str]:
    return {"record_id": opaque_id("prv-auth"), "procedure_code": PROCEDURE,
            "item_code": item, "code": code}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@pytest.mark.requirement("PRV-AUTH-001")
def test_a_provision_without_a_token_is_refused_401(harness, persons, item, request):
    with harness.client(authenticated=False,
                        recorder=harness.recorder_for(request.node)) as client:
        response = client.post("/v1/provisions", json=_provision(persons[0].code, item))
    ensure_bearer_challenge(response, status=401, what="a provision without a token")
    assert "items" not in _json(response), f"a refusal carried data: {response.text[:300]}"


@pytest.mark.requirement("PRV-AUTH-001")
def test_a_provision_by_another_client_than_the_mesh_is_refused_403(harness, persons, item,
                                                                   audit_scope, request):
    token = harness.token([audit_scope], client_id=AUDITOR, sub=AUDITOR)
    with harness.client(token, recorder=harness.recorder_for(request.node)) as client:
        response = client.post("/v1/provisions", json=_provision(persons[0].code, item))
    assert response.status_code == 403, (
        f"client {AUDITOR!r} (no provide scope) asking for a provision was answered "
        f"{response.status_code}: {response.text[:300]}")
    assert "items" not in _json(response), f"a refusal carried data: {response.text[:300]}"
