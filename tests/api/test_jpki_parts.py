"""The CA's parts on ``app.state`` are what its routes use: the card signer, the registry feed,
the certificate directory and the revocation status can each be replaced on its own, and the
signer and the feed are tested here without HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.jpki.ca import cert_pem, key_pem, new_key, serial_hex
from meshcert_simulators.jpki.cards import Cards
from meshcert_simulators.jpki.feed import RegistryFeed
from meshcert_simulators.registry import create_app
from tests.api.jpki_gateway_support import ADMIN, SERVICES, TestClient, bearer, settings

PERSON = "12345678901"
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


class CountingFeed:
    """A registry feed that reads no registry: it counts its pulls and reports one revocation."""

    def __init__(self) -> None:
        self.quiet = 0
        self.forced = 0
        self.held = 0

    async def sync(self, *, force: bool = False) -> dict[str, Any]:
        self.forced += force
        return {"source": "stand-in", "revoked": ["abc"], "municipalities": []}

    async def sync_quietly(self) -> None:
        self.quiet += 1

    @asynccontextmanager
    async def current(self) -> AsyncIterator[None]:
        self.held += 1
        yield


def _jpki(tmp_path: Path) -> FastAPI:
    return create_app(settings("jpki", tmp_path))  # no registry transport: none must be read


def test_a_replaced_card_signer_signs_for_the_route(tmp_path: Path):
    app = _jpki(tmp_path)

    class Signer:
        def __init__(self) -> None:
            self.asked: list[tuple[str, bytes, str]] = []

        async def sign(self, juminhyo_code: str, data: bytes, kind: str) -> dict[str, Any]:
            self.asked.append((juminhyo_code, data, kind))
            return {"signature": "c3RhbmQtaW4=", "algorithm": "ecdsa-with-SHA256",
                    "certificate": "stand-in PEM", "serial": "0f", "key": kind}

    app.state.cards = signer = Signer()
    with TestClient(app) as client:
        r = client.post(f"/v1/cards/{PERSON}/sign", headers=bearer(SERVICES),
                        json={"data": base64.b64encode(b"hello").decode(),
                              "key": "authentication"})
    assert r.status_code == 200, r.text
    assert r.json()["certificate"] == "stand-in PEM" and r.json()["serial"] == "0f"
    assert signer.asked == [(PERSON, b"hello", "authentication")]


def test_a_replaced_feed_is_followed_by_lookups_and_forced_by_sync(tmp_path: Path):
    app = _jpki(tmp_path)
    app.state.feed = feed = CountingFeed()
    with TestClient(app) as client:
        status = client.get("/v1/status/0A")
        crl = client.get("/crl")
        missing = client.get("/v1/certificates/0a")
        forced = client.post("/v1/sync", headers=bearer(ADMIN))
    assert status.status_code == 200 and status.json()["status"] == "unknown"
    assert status.json()["serial"] == "a"  # canonical: lowercase hex, no leading zero
    assert crl.status_code == 200 and crl.headers["content-type"] == "application/pkix-crl"
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:meshcert:problem:certificate-not-found"
    assert feed.quiet == 3  # status, CRL and lookup each followed the (replaced) feed
    assert forced.status_code == 200 and forced.json()["revoked"] == ["abc"]
    assert feed.forced == 1


def test_a_replaced_revocation_status_answers_status_and_crl(tmp_path: Path):
    app = _jpki(tmp_path)

    class Status:
        async def status(self, serial: str) -> dict[str, Any]:
            return {"serial": serial, "status": "revoked", "revoked_at": T0,
                    "reason": "keyCompromise", "this_update": T0,
                    "next_update": T0 + timedelta(minutes=5)}

        async def crl(self) -> bytes:
            return b"stand-in CRL"

    app.state.revocation_status = Status()
    with TestClient(app) as client:
        status = client.get("/v1/status/ff")
        crl = client.get("/crl")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "revoked" and status.json()["reason"] == "keyCompromise"
    assert crl.content == b"stand-in CRL"


def test_a_replaced_directory_answers_lookups_and_the_ca(tmp_path: Path):
    app = _jpki(tmp_path)

    class Directory:
        async def certificate(self, serial: str) -> dict[str, Any]:
            return {"serial": serial.lower(), "kind": "signing", "certificate": "PEM",
                    "issued_at": T0, "not_after": T0 + timedelta(days=1), "status": "good",
                    "revoked_at": None, "reason": None}

        def ca(self) -> dict[str, Any]:
            return {"certificate": "stand-in anchor", "crl_path": "/elsewhere"}

    app.state.directory = Directory()
    with TestClient(app) as client:
        found = client.get("/v1/certificates/AB")
        anchor = client.get("/v1/ca")
    assert found.status_code == 200 and found.json()["serial"] == "ab"
    assert anchor.json() == {"certificate": "stand-in anchor", "crl_path": "/elsewhere"}


def test_the_signer_signs_with_the_live_key_inside_the_feed_without_http(tmp_path: Path):
    app = _jpki(tmp_path)
    store, ca = app.state.store, app.state.ca
    key = new_key()
    serial = x509.random_serial_number()
    certificate = ca.issue(key.public_key(), "authentication", serial, None, store.clock())
    store.add(serial_hex(serial), PERSON, "authentication", cert_pem(certificate),
              key_pem(key), None, certificate.not_valid_after_utc)
    feed = CountingFeed()
    state = SimpleNamespace(feed=feed, store=store, ca=ca, registry_transport=None,
                            registry_access=Problem(503, "no-registry", "No registry", "-"))
    signed = asyncio.run(Cards(state).sign(PERSON, b"consent", "authentication"))
    assert signed["serial"] == serial_hex(serial) and feed.held == 1
    public = certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(base64.b64decode(signed["signature"]), b"consent", ec.ECDSA(hashes.SHA256()))
    # No live signing certificate: issuing one asks the registry, which this state lacks.
    with pytest.raises(Problem) as refused:
        asyncio.run(Cards(state).sign(PERSON, b"consent", "signing"))
    assert refused.value.status == 503 and feed.held == 2


def test_the_feed_without_a_registry_refuses_a_forced_pull_and_stays_quiet_otherwise():
    missing = Problem(503, "no-registry", "No registry", "the topology has none")
    feed = RegistryFeed(SimpleNamespace(registry_access=missing, registry_transport=None,
                                        store=None))
    with pytest.raises(Problem) as refused:
        asyncio.run(feed.sync(force=True))
    assert refused.value is missing
    asyncio.run(feed.sync_quietly())  # logged, not raised: status answers must still be had
