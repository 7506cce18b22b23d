"""Exchange capture on the mesh (meshcert_simulators.common.exchanges): what an inquirer sent, the
status
it got (injected faults included), filtered by client and paged by sequence number."""

from __future__ import annotations

import json

from tests.api.mesh_support import CHILD, TAX, auth, client_for, mesh_app, mesh_topology, person

TOPO = mesh_topology()
ADMIN = {"Authorization": f"Bearer {TOPO.admin_token}"}


def test_exchanges_record_bodies_statuses_and_clients_in_order(tmp_path):
    with client_for(mesh_app(tmp_path)) as client:
        before = client.get("/admin/exchanges", headers=ADMIN).json()["last_seq"]
        client.post("/v1/codes", json={"juminhyo_code": person(1)}, headers=auth(TOPO, CHILD))
        client.post("/v1/codes", json={"juminhyo_code": "1"}, headers=auth(TOPO, CHILD))
        client.put("/admin/faults/global", headers=ADMIN,
                   json={"error": {"rate": 1.0, "status": 503, "retry_after": 2},
                         "max_hits": 1})
        client.post("/v1/codes", json={"juminhyo_code": person(2)}, headers=auth(TOPO, CHILD))
        client.post("/v1/codes", json={"juminhyo_code": person(3)},
                    headers=auth(TOPO, "mesh-stranger"))
        listed = client.get("/admin/exchanges", headers=ADMIN,
                            params={"after": before, "client_id": "mesh-child-allowance"})
        assert listed.status_code == 200
        seen = listed.json()["exchanges"]
        assert [e["status"] for e in seen] == [201, 422, 503]
        assert person(1) in seen[0]["request_body"] and '"code"' in seen[0]["response_body"]
        assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)
        assert {e["client_id"] for e in seen} == {"mesh-child-allowance"}
        everyone = client.get("/admin/exchanges", headers=ADMIN, params={"after": before})
        assert len(everyone.json()["exchanges"]) == 4  # admin calls are not captured


def test_exchanges_are_admin_only_and_outside_the_contract(tmp_path):
    with client_for(mesh_app(tmp_path)) as client:
        assert client.get("/admin/exchanges").status_code == 401
        assert client.get("/admin/exchanges", headers=auth(TOPO, CHILD)).status_code == 403
        assert "/admin/exchanges" not in client.get("/openapi.json").json()["paths"]


def test_inquiries_refused_before_their_body_is_read_are_captured(tmp_path):
    """401 and 403 come before the body is read (meshcert_simulators.common.hot_routes): the capture
    still has each refusal — its status, the client, the body the caller sent."""
    sent = {"record_id": "refused-0001", "procedure_code": "JT01010000000214",
            "item_code": "TM00000000000002", "provider": TAX, "code": "X" * 16}
    with client_for(mesh_app(tmp_path)) as client:
        before = client.get("/admin/exchanges", headers=ADMIN).json()["last_seq"]
        answers = [client.post("/v1/inquiries", json=sent),
                   client.post("/v1/inquiries", json=sent, headers=auth(TOPO, "mesh-stranger")),
                   client.post("/v1/inquiries", json=sent, headers=auth(TOPO, TAX))]
        assert [a.status_code for a in answers] == [401, 403, 403]
        seen = client.get("/admin/exchanges", headers=ADMIN,
                          params={"after": before}).json()["exchanges"]
    assert [(e["method"], e["path"], e["status"], e["client_id"]) for e in seen] == [
        ("POST", "/v1/inquiries", 401, None),
        ("POST", "/v1/inquiries", 403, "mesh-stranger"),
        ("POST", "/v1/inquiries", 403, "mesh-resident-tax")]
    assert [json.loads(e["request_body"]) for e in seen] == [sent] * 3
    assert [json.loads(e["response_body"])["type"] for e in seen] == [
        a.json()["type"] for a in answers]


def test_exchanges_keep_the_request_headers_with_credentials_redacted(tmp_path):
    """The harness judges what a caller put in its headers too (an identifier may ride there),
    on the ordinary routes and the hot inquiry route alike; credentials are never kept."""
    sent = {"record_id": "headers-0001", "procedure_code": "JT01010000000214",
            "item_code": "TM00000000000002", "provider": TAX, "code": "X" * 16}
    note = {"X-Note": "applicant 1234-5678-9018"}
    with client_for(mesh_app(tmp_path)) as client:
        before = client.get("/admin/exchanges", headers=ADMIN).json()["last_seq"]
        client.post("/v1/codes", json={"juminhyo_code": person(1)},
                    headers={**auth(TOPO, CHILD), **note})
        client.post("/v1/inquiries", json=sent, headers={**auth(TOPO, CHILD), **note})
        seen = client.get("/admin/exchanges", headers=ADMIN,
                          params={"after": before}).json()["exchanges"]
    assert [e["path"] for e in seen] == ["/v1/codes", "/v1/inquiries"]
    for exchange in seen:
        headers = exchange["request_headers"]
        assert headers["x-note"] == "applicant 1234-5678-9018"
        assert headers["authorization"] == "[redacted]"
        assert auth(TOPO, CHILD)["Authorization"].split()[-1] not in json.dumps(headers)
