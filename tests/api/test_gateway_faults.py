"""The harness's levers on the gateway: a fault plan matching a relying party's client id (the
client an idp access token was issued to) hits that client only, and the exchanges show what
each relying party asked."""

from __future__ import annotations

from pathlib import Path

from tests.api.jpki_gateway_support import ADMIN, BANK, bearer, open_mesh

SUB = "c" * 64


def test_a_fault_plan_for_one_relying_party_and_its_captured_exchanges(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        mesh.register_client("other-bank")
        resident = mesh.seed()
        mesh.consent(resident, ["openid", "name"], SUB)
        mesh.consent(resident, ["openid", "name"], SUB, client_id="other-bank")
        bank, other = mesh.idp.token(SUB), mesh.idp.token(SUB, client_id="other-bank")
        # The first request fetches the provider's keys (a plan's client match needs them).
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(bank)).status_code == 200
        plan = mesh.gateway.put("/admin/faults/global", headers=bearer(ADMIN), json={
            "match": {"client_id": BANK, "path_prefix": "/v1/basic-facts"},
            "error": {"rate": 1.0, "status": 429, "retry_after": 7}, "max_hits": 1})
        assert plan.status_code in (200, 201), plan.text
        hit = mesh.gateway.get("/v1/basic-facts", headers=bearer(bank))
        assert hit.status_code == 429 and hit.headers["retry-after"] == "7"
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(other)).status_code == 200
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(bank)).status_code == 200

        seen = mesh.gateway.get("/admin/exchanges", headers=bearer(ADMIN), params={
            "client_id": BANK, "path_prefix": "/v1/basic-facts"})
        assert seen.status_code == 200
        statuses = [e["status"] for e in seen.json()["exchanges"]]
        assert statuses == [200, 429, 200]
        assert all(e["request_headers"]["authorization"] == "[redacted]"
                   for e in seen.json()["exchanges"])


def test_a_consent_past_its_expiry_gives_nothing_more(tmp_path: Path):
    with open_mesh(tmp_path, consent_days="1") as mesh:
        mesh.register_client()
        resident = mesh.seed()
        consent = mesh.consent(resident, ["openid", "name"], SUB)
        token = mesh.idp.token(SUB)
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(token)).status_code == 200
        # Two days on, as the gateway's clock sees it (a clock-skew plan).
        skewed = mesh.gateway.put("/admin/faults/global", headers=bearer(ADMIN), json={
            "match": {"path_prefix": "/v1/basic-facts"}, "clock_skew_s": 2 * 86_400})
        assert skewed.status_code in (200, 201), skewed.text
        expired = mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
        assert expired.status_code == 403
        assert expired.json()["type"] == "urn:meshcert:problem:consent-expired"
        assert expired.json()["consent_id"] == consent["id"]
