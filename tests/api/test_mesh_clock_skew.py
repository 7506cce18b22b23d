"""The mesh's clock follows a clock-skew fault plan: with its "today" moved before the legal
basis of an inquiry, the mesh itself refuses it as not permitted and records the refusal — how
the mesh-inquirer suites make the mesh refuse a correct inquirer (meshcert_suites/mesh_inquirer/
failures.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.mesh_support import CHILD, FakeProvider, auth, client_for, mesh_app
from tests.api.test_mesh_inquiries import TOPO, code_of, inquiry, records

P = "urn:meshcert:problem:"


def test_a_skewed_clock_puts_the_inquiry_outside_its_legal_basis(tmp_path):
    provider = FakeProvider()
    admin = {"Authorization": f"Bearer {TOPO.admin_token}"}
    # The tax item's basis for the child-allowance office dates from 2024-04-01.
    skew = (datetime(2020, 1, 6, tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        code = code_of(client, CHILD)
        plan = client.put("/admin/faults/global", headers=admin, json={
            "match": {"path_prefix": "/v1/inquiries"}, "clock_skew_s": skew})
        assert plan.status_code == 200, plan.text
        refused = client.post("/v1/inquiries", json=inquiry(code, "skewed"),
                              headers=auth(TOPO, CHILD))
        assert client.delete("/admin/faults/global", headers=admin).status_code == 204
        provided = client.post("/v1/inquiries", json=inquiry(code, "plain"),
                               headers=auth(TOPO, CHILD))
        recs = {r["record_id"]: r for r in records(client, CHILD)}
    assert (refused.status_code, refused.json()["type"]) == (403, P + "not-permitted")
    assert provided.status_code == 200, provided.text
    assert len(provider.calls) == 1
    assert recs["skewed"]["outcome"] == "refused-not-permitted"
    assert recs["skewed"]["requested_at"].startswith("2020-01-0")
    assert recs["plain"]["outcome"] == "provided"
