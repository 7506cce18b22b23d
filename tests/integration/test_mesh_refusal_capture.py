"""Over real HTTP (the mesh as ``python -m meshcert_simulators.serve`` runs it), an inquiry refused
before its body is read (401, 403) is answered, captured for the harness with its body, and
logged as one access-log line — never as a server traceback."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.mesh_support import TAX, auth, mesh_topology
from tests.integration.served import TOPOLOGIES, log_after, served

pytestmark = pytest.mark.slow
TOPO = mesh_topology()
SENT = {"record_id": "refused-http-0001", "procedure_code": "JT01010000000214",
        "item_code": "TM00000000000002", "provider": TAX, "code": "X" * 16}


def test_refusals_are_captured_and_logged_without_a_traceback(tmp_path):
    with served(tmp_path, "mesh", TOPOLOGIES / "mesh.yaml") as mesh, \
            httpx.Client(base_url=mesh.url, timeout=10) as client:
        admin = {"Authorization": f"Bearer {TOPO.admin_token}"}
        before = client.get("/admin/exchanges", headers=admin).json()["last_seq"]
        answers = [client.post("/v1/inquiries", json=SENT),
                   client.post("/v1/inquiries", json=SENT,
                               headers=auth(TOPO, "mesh-stranger")),
                   client.post("/v1/inquiries", json=SENT, headers=auth(TOPO, TAX))]
        assert [a.status_code for a in answers] == [401, 403, 403]
        assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
        seen = client.get("/admin/exchanges", headers=admin,
                          params={"after": before}).json()["exchanges"]
        log = log_after(mesh, lambda text: text.count('"path":"/v1/inquiries"') >= 3)
    assert [(e["status"], e["client_id"]) for e in seen] == [
        (401, None), (403, "mesh-stranger"), (403, "mesh-resident-tax")]
    assert [json.loads(e["request_body"]) for e in seen] == [SENT] * 3
    assert "Traceback" not in log and "ClientDisconnect" not in log, log
    lines = [json.loads(line) for line in log.splitlines() if '"/v1/inquiries"' in line]
    assert [(line["status"], line["request_id"]) for line in lines] == [
        (a.status_code, a.headers["x-request-id"]) for a in answers]
