"""The JPKI-like CA: a card's signing certificate carries the person's four facts and its
user-authentication certificate none; signatures verify against the certificate and the CA; a
move or death at the registry revokes (status and a real signed CRL both show it); the CA and
its records survive a restart."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from meshcert_simulators.contracts.jpki_profile import (
    certificate_facts,
    is_signing_certificate,
)
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import ADDRESS, movement
from tests.api.jpki_gateway_support import (
    ADMIN,
    LG,
    SERVICES,
    TestClient,
    bearer,
    open_mesh,
    settings,
)

FACTS = {"name": "山田\u3000太郎", "name_kana": "ヤマダ\u3000タロウ",
         "address": "東京都千代田区霞が関二丁目1-6", "birthdate": "1980-05-01", "gender": "male"}


def pem_certificate(answer) -> x509.Certificate:  # type: ignore[no-untyped-def]
    return x509.load_pem_x509_certificate(answer.json()["certificate"].encode())


def test_signing_certificate_carries_the_four_facts_and_authentication_none(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        resident = mesh.seed()
        signing = mesh.sign(resident["juminhyo_code"], b"hello")
        auth = mesh.sign(resident["juminhyo_code"], b"hello", key="authentication")
        assert signing.status_code == auth.status_code == 200, (signing.text, auth.text)
        signing_cert, auth_cert = pem_certificate(signing), pem_certificate(auth)
        assert certificate_facts(signing_cert) == FACTS
        assert certificate_facts(auth_cert) == {}
        with pytest.raises(x509.ExtensionNotFound):
            auth_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert is_signing_certificate(signing_cert) and not is_signing_certificate(auth_cert)
        # No personal data in either subject (the facts ride only in subjectAltName).
        for cert in (signing_cert, auth_cert):
            subject = cert.subject.rfc4514_string()
            assert "山田" not in subject and resident["juminhyo_code"] not in subject
        assert signing.json()["serial"] != auth.json()["serial"]
        # The same live certificate signs again (issued once, on first use).
        assert mesh.sign(resident["juminhyo_code"], b"again").json()["serial"] == \
            signing.json()["serial"]


def test_a_signature_verifies_against_the_certificate_and_the_ca(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        resident = mesh.seed()
        answer = mesh.sign(resident["juminhyo_code"], "同意します".encode())
        assert answer.status_code == 200, answer.text
        assert answer.json()["algorithm"] == "ecdsa-with-SHA256"
        certificate = pem_certificate(answer)
        certificate.verify_directly_issued_by(mesh.ca())
        public = certificate.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        signature = base64.b64decode(answer.json()["signature"])
        public.verify(signature, "同意します".encode(), ec.ECDSA(hashes.SHA256()))
        with pytest.raises(InvalidSignature):
            public.verify(signature, "同意しません".encode(), ec.ECDSA(hashes.SHA256()))
        looked_up = mesh.jpki.get(f"/v1/certificates/{answer.json()['serial']}")
        assert looked_up.status_code == 200
        assert looked_up.json()["certificate"] == answer.json()["certificate"]
        assert looked_up.json()["status"] == "good" and looked_up.json()["kind"] == "signing"


def crl_of(mesh) -> x509.CertificateRevocationList:  # type: ignore[no-untyped-def]
    answer = mesh.jpki.get("/crl")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(answer.content)
    assert crl.is_signature_valid(mesh.ca().public_key())
    assert crl.issuer == mesh.ca().subject
    assert crl.next_update_utc is not None and crl.next_update_utc > crl.last_update_utc
    return crl


def test_a_move_at_the_registry_revokes_the_signing_certificate(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        resident = mesh.seed()
        code = resident["juminhyo_code"]
        signing = mesh.sign(code, b"before").json()
        auth = mesh.sign(code, b"before", key="authentication").json()
        assert mesh.jpki.get(f"/v1/status/{signing['serial']}").json()["status"] == "good"
        assert crl_of(mesh).get_revoked_certificate_by_serial_number(
            int(signing["serial"], 16)) is None

        moved = mesh.registry.post(
            f"/municipalities/{LG}/movements", headers=bearer(ADMIN),
            json=movement("move-within", setai_number=resident["setai_number"],
                          address={**ADDRESS, "banchi": "3-1"}))
        assert moved.status_code == 201, moved.text

        status = mesh.jpki.get(f"/v1/status/{signing['serial']}").json()
        assert status["status"] == "revoked" and status["reason"] == "affiliationChanged"
        assert datetime.fromisoformat(status["revoked_at"]) <= datetime.now(UTC)
        entry = crl_of(mesh).get_revoked_certificate_by_serial_number(
            int(signing["serial"], 16))
        assert entry is not None
        assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
            x509.ReasonFlags.affiliation_changed
        # The user-authentication certificate carries no fact: a move leaves it good.
        assert mesh.jpki.get(f"/v1/status/{auth['serial']}").json()["status"] == "good"
        # The next signature gets a new certificate with the new address.
        renewed = mesh.sign(code, b"after")
        assert renewed.json()["serial"] != signing["serial"]
        assert certificate_facts(pem_certificate(renewed))["address"] == \
            "東京都千代田区霞が関二丁目3-1"


def test_a_death_revokes_both_certificates_and_the_card_signs_no_more(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        resident = mesh.seed("佐藤", "花子", kana=("サトウ", "ハナコ"), sex="2")
        code = resident["juminhyo_code"]
        serials = [mesh.sign(code, b"x", key=k).json()["serial"]
                   for k in ("signing", "authentication")]
        died = mesh.registry.post(f"/municipalities/{LG}/movements", headers=bearer(ADMIN),
                                  json=movement("death", atena_number=resident["atena_number"]))
        assert died.status_code == 201, died.text
        for serial in serials:
            status = mesh.jpki.get(f"/v1/status/{serial}").json()
            assert (status["status"], status["reason"]) == ("revoked", "cessationOfOperation")
        refused = mesh.sign(code, b"x")
        assert refused.status_code == 409
        assert refused.json()["type"] == "urn:meshcert:problem:card-not-usable"


def test_the_ca_and_its_records_survive_a_restart(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        resident = mesh.seed()
        first = mesh.sign(resident["juminhyo_code"], b"x").json()
        ca_before = mesh.jpki.get("/v1/ca").json()["certificate"]
    with TestClient(create_app(settings("jpki", tmp_path))) as jpki:
        assert jpki.get("/v1/ca").json()["certificate"] == ca_before
        looked_up = jpki.get(f"/v1/certificates/{first['serial']}")
        assert looked_up.status_code == 200
        assert looked_up.json()["certificate"] == first["certificate"]
        assert looked_up.json()["status"] == "good"


def test_malformed_and_unknown_requests_are_problems(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        resident = mesh.seed()
        code = resident["juminhyo_code"]
        cases = [
            (mesh.jpki.post(f"/v1/cards/{code}/sign", headers=bearer(SERVICES),
                            json={"data": "not base64!"}), 422, "invalid-base64"),
            (mesh.jpki.post(f"/v1/cards/{code}/sign", json={"data": "eA=="}), 401,
             "unauthorized"),
            (mesh.jpki.post(f"/v1/cards/{code}/sign", headers=bearer(ADMIN),
                            json={"data": "eA==", "key": "other"}), 422, "validation-error"),
            (mesh.jpki.post("/v1/cards/99999999999/sign", headers=bearer(SERVICES),
                            json={"data": "eA=="}), 404, "card-not-found"),
            (mesh.jpki.get("/v1/certificates/abc123"), 404, "certificate-not-found"),
            (mesh.jpki.get("/v1/certificates/not-hex"), 422, "validation-error"),
        ]
        for answer, status, slug in cases:
            assert answer.status_code == status, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"] == f"urn:meshcert:problem:{slug}"
        unknown = mesh.jpki.get("/v1/status/abc123").json()
        assert unknown["status"] == "unknown"
