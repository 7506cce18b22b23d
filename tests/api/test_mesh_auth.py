"""Every mesh call authenticates: JWT access tokens from the topology's issuer work like the
static tokens; the caller must be an institution; the audit scope shows flagged records."""

from __future__ import annotations

from meshcert_simulators.authz import tokens
from tests.api.mesh_support import (
    CHILD,
    FakeProvider,
    auth,
    client_for,
    mesh_app,
    mesh_topology,
    person,
)
from tests.tokens import authz_key

TOPO = mesh_topology()


def jwt_for(client_id: str, scopes: list[str], audience: str = "urn:meshcert:mesh") -> dict:
    token = tokens.mint_access_token(authz_key(), issuer=TOPO.issuer_url(), audience=audience,
                                     subject=client_id, scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


def test_jwt_access_tokens_identify_institutions(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        by_token = client.post("/v1/codes", json={"juminhyo_code": person(1)},
                               headers=auth(TOPO, CHILD))
        by_jwt = client.post("/v1/codes", json={"juminhyo_code": person(1)},
                             headers=jwt_for("mesh-child-allowance", []))
        code = by_jwt.json()["code"]
        client.post("/v1/inquiries", headers=by_jwt.request.headers, json={
            "record_id": "x", "procedure_code": "JT01010000000214",
            "item_code": "TM00000000000002", "provider": "chiyoda-resident-tax", "code": code,
            "non_disclosure": True})
        wrong_aud = client.post("/v1/codes", json={"juminhyo_code": person(1)},
                                headers=jwt_for("mesh-child-allowance", [],
                                                audience="urn:meshcert:municipal"))
        stranger = client.get("/v1/provision-records", params={"code": code},
                              headers=jwt_for("mesh-stranger", ["mesh:audit"]))
        own = client.get("/v1/provision-records", params={"code": code},
                         headers=jwt_for("mesh-child-allowance", []))
        audited = client.post("/v1/codes", json={"juminhyo_code": person(1)},
                              headers=jwt_for("mesh-auditor", ["mesh:audit"]))
        audit = client.get("/v1/provision-records", params={"code": audited.json()["code"]},
                           headers=jwt_for("mesh-auditor", ["mesh:audit"]))
    assert by_jwt.status_code == 200 and by_jwt.json()["code"] == by_token.json()["code"]
    assert wrong_aud.status_code == 401 and wrong_aud.json()["reason"] == "wrong-audience"
    assert stranger.json()["type"] == "urn:meshcert:problem:institution-not-registered"
    assert own.json()["records"] == []
    assert [r["record_id"] for r in audit.json()["records"]] == ["x"]
