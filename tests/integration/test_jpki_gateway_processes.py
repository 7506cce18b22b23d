"""The CA and the gateway as they run in the field (``python -m meshcert_simulators.serve``),
beside a real resident-registry process: a card signs, the gateway records the consent after
asking the CA over HTTP, a move at the registry revokes the certificate (status and CRL), and
the gateway refuses a consent signed with it."""

from __future__ import annotations

import base64
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509

from meshcert.backends.ports import assign_free_ports
from meshcert_suites.resident_registry.builders import ADDRESS, move_in, movement, person
from tests.api.jpki_gateway_support import ADMIN, LG, PURPOSE, RAW, SERVICES
from tests.integration.served import serving

pytestmark = pytest.mark.slow


def start(tmp_path: Path) -> tuple[ExitStack, dict[str, str]]:
    raw: dict[str, Any] = yaml.safe_load(yaml.safe_dump(RAW))
    assign_free_ports(raw["simulators"])
    topology = tmp_path / "topology.yaml"
    topology.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    urls = {name: f"http://127.0.0.1:{spec['port']}" for name, spec in raw["simulators"].items()}
    stack = ExitStack()
    for name in ("municipal", "jpki", "gateway"):
        stack.enter_context(serving(
            [sys.executable, "-m", "meshcert_simulators.serve", "--name", name, "--topology",
             str(topology), "--data-dir", str(tmp_path / "data")],
            f"{urls[name]}/health", tmp_path / f"{name}.log",
            env={"MESHCERT_GATEWAY_IDP_ISSUER": "http://idp.invalid"}))
    return stack, urls


def test_cards_consents_and_revocation_over_real_http(tmp_path: Path):
    stack, urls = start(tmp_path)
    admin, services = ({"Authorization": f"Bearer {t}"} for t in (ADMIN, SERVICES))
    with stack, httpx.Client(timeout=10.0) as http:
        moved_in = http.post(f"{urls['municipal']}/municipalities/{LG}/movements",
                             headers=admin, json=move_in(person()))
        assert moved_in.status_code == 201, moved_in.text
        resident = moved_in.json()["affected"][0]
        registered = http.post(f"{urls['gateway']}/_meshcert/gateway/clients", headers=admin,
                               json={"client_id": "bank", "purpose": PURPOSE,
                                     "scopes": ["openid", "name"]})
        assert registered.status_code == 201, registered.text

        def consent_body() -> dict[str, Any]:
            text = ('{"client_id":"bank","consented_at":"2026-12-04T10:00:00+00:00",'
                    f'"purpose":"{PURPOSE}","scopes":["openid","name"],"sub":"{"d" * 64}"}}')
            signed = http.post(f"{urls['jpki']}/v1/cards/{resident['juminhyo_code']}/sign",
                               headers=services,
                               json={"data": base64.b64encode(text.encode()).decode()})
            assert signed.status_code == 200, signed.text
            return {"sub": "d" * 64, "juminhyo_code": resident["juminhyo_code"],
                    "client_id": "bank", "scopes": ["openid", "name"], "signed_text": text,
                    "signature": signed.json()["signature"],
                    "certificate": signed.json()["certificate"]}

        body = consent_body()
        recorded = http.post(f"{urls['gateway']}/v1/consents", headers=services, json=body)
        assert recorded.status_code == 201, recorded.text

        serial = recorded.json()["evidence"]["certificate_serial"]
        moved = http.post(f"{urls['municipal']}/municipalities/{LG}/movements", headers=admin,
                          json=movement("move-within", setai_number=resident["setai_number"],
                                        address={**ADDRESS, "banchi": "9-9"}))
        assert moved.status_code == 201, moved.text
        assert http.get(f"{urls['jpki']}/v1/status/{serial}").json()["status"] == "revoked"
        crl = x509.load_der_x509_crl(http.get(f"{urls['jpki']}/crl").content)
        assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
        refused = http.post(f"{urls['gateway']}/v1/consents", headers=services, json=body)
        assert refused.status_code == 422
        assert refused.json()["type"] == "urn:meshcert:problem:certificate-revoked"
        # A new signature gets a new certificate with the new address: recorded again.
        again = http.post(f"{urls['gateway']}/v1/consents", headers=services,
                          json=consent_body())
        assert again.status_code == 201, again.text
        assert again.json()["evidence"]["certificate_serial"] != serial
