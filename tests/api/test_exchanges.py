"""Exchange capture on the mesh (simulators.common.exchanges): what an inquirer sent, the status
it got (injected faults included), filtered by client and paged by sequence number."""

from __future__ import annotations

from tests.api.mesh_support import CHILD, auth, client_for, mesh_app, mesh_topology, person

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
