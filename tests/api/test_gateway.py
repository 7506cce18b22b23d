"""The gov-private API gateway: consents are recorded only with valid signature evidence from
a good JPKI certificate of the person; facts are those of the consent's scopes, read from the
registry at request time; revocation counts from the very next request; per-client limits
answer 429 with Retry-After; every provision is recorded and survives a restart."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from meshcert_simulators.common.jwks import generate_key
from meshcert_simulators.gateway.tokens import REFETCH_INTERVAL_S
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import ADDRESS, movement
from tests.api.jpki_gateway_support import (
    ADMIN,
    AUDITOR,
    BANK,
    GATEWAY_AUD,
    IDP,
    LG,
    SERVICES,
    Mesh,
    TestClient,
    bearer,
    build_mesh,
    open_mesh,
    settings,
    wire_gateway,
)

SUB = "a" * 64


def problem_type(answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return str(answer.json()["type"]).removeprefix("urn:meshcert:problem:")


def test_a_consent_is_recorded_with_its_verified_evidence(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        consent = mesh.consent(resident, ["openid", "name"], SUB)
        assert consent["client_id"] == BANK and consent["sub"] == SUB
        assert consent["scopes"] == ["name", "openid"]
        assert consent["revoked_at"] is None and consent["expires_at"] > consent["granted_at"]
        evidence = consent["evidence"]
        assert evidence["certificate_status"] == "good"
        assert evidence["algorithm"] == "ecdsa-with-SHA256"
        assert "juminhyo_code" not in consent and resident["juminhyo_code"] not in str(consent)
        assert consent["id"].startswith("cns-") and evidence["certificate_serial"]


def test_a_consent_with_bad_evidence_is_refused(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        mesh.register_client("narrow-bank", scopes=["openid", "name"])
        resident, other = mesh.seed(), mesh.seed("田中", "次郎", kana=("タナカ", "ジロウ"))
        good = mesh.consent_body(resident, ["openid", "name"], SUB)
        forged = base64.b64encode(base64.b64decode(good["signature"])[:-2] + b"\0\0").decode()
        not_base64 = "***"
        other_card = mesh.consent_body(other, ["openid", "name"], SUB)
        auth_key = mesh.sign(resident["juminhyo_code"], good["signed_text"].encode(),
                             key="authentication").json()
        cases = [
            ("bad-signature", {**good, "signature": forged}),
            ("bad-signature", {**good, "signature": not_base64}),
            ("signed-text-mismatch", {**good, "scopes": ["openid", "name", "address"]}),
            ("signed-text-mismatch", {**good, "signed_text": "[" * 8000}),
            ("certificate-not-of-person", {**other_card,
                                           "juminhyo_code": resident["juminhyo_code"]}),
            ("not-a-signing-certificate", {**good, "signature": auth_key["signature"],
                                           "certificate": auth_key["certificate"]}),
            ("invalid-certificate", {**good, "certificate": "-----BEGIN CERTIFICATE-----x"}),
            ("unknown-client", {**good, "client_id": "nobody"}),
            ("scope-not-allowed", {**good, "client_id": "narrow-bank",
                                   "scopes": ["openid", "address"]}),
        ]
        for slug, body in cases:
            answer = mesh.gateway.post("/v1/consents", headers=bearer(SERVICES), json=body)
            assert answer.status_code == 422, (slug, answer.text)
            assert problem_type(answer) == slug
        # Only the provider records consents.
        assert mesh.gateway.post("/v1/consents", headers=bearer(AUDITOR),
                                 json=good).status_code == 403


def test_a_consent_signed_with_a_revoked_certificate_is_refused(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        body = mesh.consent_body(resident, ["openid", "name"], SUB)
        moved = mesh.registry.post(
            f"/municipalities/{LG}/movements", headers=bearer(ADMIN),
            json=movement("move-within", setai_number=resident["setai_number"],
                          address={**ADDRESS, "banchi": "3-1"}))
        assert moved.status_code == 201, moved.text
        answer = mesh.gateway.post("/v1/consents", headers=bearer(SERVICES), json=body)
        assert answer.status_code == 422
        assert problem_type(answer) == "certificate-revoked"
        # Signed again after the move (a new certificate), the consent is recorded.
        mesh.consent(resident, ["openid", "name"], SUB)
        # A person who died has no consent recorded, whatever they signed before.
        earlier = mesh.consent_body(resident, ["openid", "name"], SUB)
        died = mesh.registry.post(f"/municipalities/{LG}/movements", headers=bearer(ADMIN),
                                  json=movement("death", atena_number=resident["atena_number"]))
        assert died.status_code == 201, died.text
        answer = mesh.gateway.post("/v1/consents", headers=bearer(SERVICES), json=earlier)
        assert answer.status_code == 422
        assert problem_type(answer) == "certificate-revoked"


def test_facts_are_limited_to_the_consent_and_read_at_request_time(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        mesh.consent(resident, ["openid", "name", "address"], SUB)
        # The token asks for every scope: only the consented ones are provided.
        token = mesh.idp.token(SUB)
        answer = mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["scopes"] == ["address", "name"]
        facts = {k: v for k, v in body["facts"].items() if v is not None}
        assert facts == {"name": "山田\u3000太郎", "name_kana": "ヤマダ\u3000タロウ",
                         "address": "東京都千代田区霞が関二丁目1-6"}
        assert "my_number" not in answer.text and resident["my_number"] not in answer.text
        assert resident["juminhyo_code"] not in answer.text
        # A token narrower than the consent narrows the facts too.
        only_name = mesh.gateway.get("/v1/basic-facts",
                                     headers=bearer(mesh.idp.token(SUB, scope="openid name")))
        assert only_name.json()["scopes"] == ["name"]
        assert only_name.json()["facts"]["address"] is None
        # A move at the registry shows at once.
        moved = mesh.registry.post(
            f"/municipalities/{LG}/movements", headers=bearer(ADMIN),
            json=movement("move-within", setai_number=resident["setai_number"],
                          address={**ADDRESS, "banchi": "3-1"}))
        assert moved.status_code == 201, moved.text
        after = mesh.gateway.get("/v1/basic-facts", headers=bearer(token)).json()
        assert after["facts"]["address"] == "東京都千代田区霞が関二丁目3-1"


def test_revocation_counts_from_the_very_next_request(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        consent = mesh.consent(resident, ["openid", "name"], SUB)
        token = mesh.idp.token(SUB)
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(token)).status_code == 200
        # Another client's token cannot revoke it; the person's own can.
        stranger = mesh.idp.token(SUB, client_id="someone-else")
        assert mesh.gateway.delete(f"/v1/consents/{consent['id']}",
                                   headers=bearer(stranger)).status_code == 404
        revoked = mesh.gateway.delete(f"/v1/consents/{consent['id']}", headers=bearer(token))
        assert revoked.status_code == 204
        refused = mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
        assert refused.status_code == 403 and problem_type(refused) == "consent-revoked"

        # The harness revokes by client and person, as a person at the portal would.
        mesh.consent(resident, ["openid", "name"], SUB)
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(token)).status_code == 200
        harness = mesh.gateway.post("/_meshcert/gateway/consents/revoke", headers=bearer(ADMIN),
                                    json={"client_id": BANK,
                                          "juminhyo_code": resident["juminhyo_code"]})
        assert harness.status_code == 200 and len(harness.json()["revoked"]) == 1
        refused = mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
        assert refused.status_code == 403 and problem_type(refused) == "consent-revoked"

        never = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token("b" * 64)))
        assert never.status_code == 403 and problem_type(never) == "no-consent"


def test_the_rate_limit_answers_429_with_retry_after(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client(rate=2)
        resident = mesh.seed()
        mesh.consent(resident, ["openid", "name"], SUB)
        token = mesh.idp.token(SUB)
        statuses = [mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
                    for _ in range(3)]
        assert [a.status_code for a in statuses[:2]] == [200, 200]
        limited = statuses[2]
        assert limited.status_code == 429 and problem_type(limited) == "too-many-requests"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["retry_after"] == int(limited.headers["retry-after"])
        # Another client has its own bucket.
        mesh.register_client("other-bank", rate=2)
        mesh.consent(resident, ["openid", "name"], SUB, client_id="other-bank")
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(
            mesh.idp.token(SUB, client_id="other-bank"))).status_code == 200


def test_access_tokens_are_checked(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        mesh.consent(resident, ["openid", "name"], SUB)
        wrong_aud = mesh.idp.token(SUB, aud=["urn:meshcert:somewhere-else"])
        expired = mesh.idp.token(SUB, exp_in=-600)
        other_issuer = mesh.idp.token(SUB, iss="http://evil.test")
        for token, reason in ((wrong_aud, "wrong-audience"), (expired, "expired"),
                              (other_issuer, "unknown-issuer"), ("not-a-jwt", None)):
            answer = mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
            assert answer.status_code == 401, answer.text
            assert answer.headers["www-authenticate"].startswith("Bearer ")
            if reason:
                assert answer.json()["reason"] == reason
        bare = mesh.gateway.get("/v1/basic-facts")
        assert bare.status_code == 401 and "Bearer" in bare.headers["www-authenticate"]

        # A token the provider no longer holds active (its code was replayed) is refused.
        token = mesh.idp.token(SUB)
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(token)).status_code == 200
        mesh.idp.inactive.add(token)
        revoked = mesh.gateway.get("/v1/basic-facts", headers=bearer(token))
        assert revoked.status_code == 401 and revoked.json()["reason"] == "revoked"
        assert 'error="invalid_token"' in revoked.headers["www-authenticate"]
        # The audience must be the gateway's: a token for the provider alone is refused.
        only_idp = mesh.idp.token(SUB, aud=[IDP])
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(only_idp)).status_code == 401
        assert mesh.gateway.get("/v1/basic-facts", headers=bearer(
            mesh.idp.token(SUB, aud=GATEWAY_AUD))).status_code == 200


def test_a_rotated_provider_key_is_fetched_on_its_first_token(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        mesh.consent(resident, ["openid", "name"], SUB)
        assert mesh.gateway.get("/v1/basic-facts",
                                headers=bearer(mesh.idp.token(SUB))).status_code == 200
        fetches = mesh.idp.jwks_fetches
        assert mesh.gateway.get("/v1/basic-facts",
                                headers=bearer(mesh.idp.token(SUB))).status_code == 200
        assert mesh.idp.jwks_fetches == fetches  # kept, not fetched per request
        new = generate_key()
        mesh.idp.published.append(new)
        time.sleep(REFETCH_INTERVAL_S + 0.05)  # a refetch is at most once a second
        answer = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token(SUB,
                                                                                    key=new)))
        assert answer.status_code == 200, answer.text
        assert mesh.idp.jwks_fetches == fetches + 1
        unpublished = generate_key()
        answer = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token(
            SUB, key=unpublished)))
        assert answer.status_code == 401 and answer.json()["reason"] == "bad-signature"


def test_provisions_are_recorded_for_the_person_and_survive_a_restart(tmp_path: Path):
    apps = build_mesh(tmp_path)
    with TestClient(apps["municipal"]) as registry, TestClient(apps["jpki"]) as jpki:
        with TestClient(apps["gateway"]) as gateway:
            mesh = Mesh(registry, jpki, gateway, apps["idp"], apps)
            mesh.register_client()
            resident = mesh.seed()
            consent = mesh.consent(resident, ["openid", "name", "gender"], SUB)
            token = mesh.idp.token(SUB)
            for _ in range(2):
                assert gateway.get("/v1/basic-facts", headers=bearer(token)).status_code == 200
            own = gateway.get("/v1/provision-records", headers=bearer(token))
            assert own.status_code == 200, own.text
            records = own.json()["records"]
            assert len(records) == 2
            assert {r["consent_id"] for r in records} == {consent["id"]}
            assert records[0]["scopes"] == ["gender", "name"]
            assert records[0]["claims"] == ["gender", "name", "name_kana"]
            assert "juminhyo_code" not in records[0]
        restarted = create_app(settings("gateway", tmp_path, idp_issuer=IDP))
        wire_gateway(restarted, apps["municipal"], apps["jpki"], apps["idp"])
        with TestClient(restarted) as gateway:
            by_person = gateway.get("/v1/provision-records", headers=bearer(AUDITOR),
                                    params={"juminhyo_code": resident["juminhyo_code"]})
            assert by_person.status_code == 200, by_person.text
            assert [r["record_id"] for r in by_person.json()["records"]] == \
                [r["record_id"] for r in records]
            # The consent and the client survive too: the next request is served, recorded.
            assert gateway.get("/v1/basic-facts", headers=bearer(token)).status_code == 200
            assert len(gateway.get("/v1/provision-records", headers=bearer(AUDITOR),
                                   params={"sub": SUB}).json()["records"]) == 3
            unnamed = gateway.get("/v1/provision-records", headers=bearer(AUDITOR))
            assert unnamed.status_code == 400
