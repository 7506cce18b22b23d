"""Shared helpers of the JPKI-like CA and gateway tests: a topology with the resident registry,
the CA and the gateway, each app in-process and wired to the others by ASGI transports; a
person seeded at the registry; and access tokens signed with a test key standing in for the
provider (idp), whose JWKS a tiny in-test app serves."""

from __future__ import annotations

import base64
import json
import secrets
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from cryptography import x509
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from meshcert_simulators.common.jwks import generate_key
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, topology_from_raw
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import move_in, person

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LG = "131016"
ADMIN = "meshcert-admin-jpki-gateway-test-0001"
SERVICES = "meshcert-national-services-test-0001"  # the idp's, jpki's and gateway's credential
AUDITOR = "meshcert-gateway-auditor-test-0001"
IDP = "http://idp.test"
GATEWAY_AUD = "urn:meshcert:gateway"
BANK = "bank-account-opening"
PURPOSE = "口座開設の本人確認"
ALL_SCOPES = ["openid", "name", "address", "birthdate", "gender"]

RAW: dict[str, Any] = {
    "name": "jpki-gateway-test", "admin_token": ADMIN,
    "simulators": {
        "municipal": {"kind": "municipal", "port": 23901, "municipalities": [LG],
                      "auth": ["token"]},
        "jpki": {"kind": "jpki", "port": 23902, "auth": ["token"]},
        "gateway": {"kind": "gateway", "port": 23904, "auth": ["token"]}},
    "clients": [
        {"id": "national-services", "token": SERVICES,
         "roles": ["registry:read", "jpki:sign", "gateway:consent", "idp:introspect"]},
        {"id": "auditor", "token": AUDITOR, "roles": ["gateway:audit"]}]}


def topology(raw: dict[str, Any] | None = None) -> Topology:
    return topology_from_raw(raw or RAW, Path("."))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def settings(name: str, data_dir: Path, raw: dict[str, Any] | None = None,
             **extra: str) -> Settings:
    return Settings(name=name, topology=topology(raw), data_dir=data_dir / name,
                    access_log=False, extra=dict(extra))


class IdpStandIn:
    """The provider's signing keys and JWKS (served by :meth:`app`), and whether its
    introspection says a token is active."""

    def __init__(self) -> None:
        self.keys: list[ECKey] = [generate_key()]
        self.published: list[ECKey] = list(self.keys)
        self.inactive: set[str] = set()
        self.jwks_fetches = 0

    def app(self) -> Starlette:
        async def jwks(_: Request) -> JSONResponse:
            self.jwks_fetches += 1
            return JSONResponse({"keys": [k.as_dict(private=False) for k in self.published]})

        async def introspect(request: Request) -> JSONResponse:
            token = parse_qs((await request.body()).decode())["token"][0]
            return JSONResponse({"active": token not in self.inactive})

        return Starlette(routes=[Route("/jwks", jwks),
                                 Route("/introspect", introspect, methods=["POST"])])

    def token(self, sub: str, client_id: str = BANK, scope: str = " ".join(ALL_SCOPES), *,
              aud: Any = None, key: ECKey | None = None, exp_in: int = 300,
              iss: str = IDP) -> str:
        key = key or self.keys[-1]
        now = int(time.time())
        claims = {"iss": iss, "sub": sub, "aud": aud or [GATEWAY_AUD, IDP],
                  "client_id": client_id, "scope": scope, "jti": secrets.token_hex(8),
                  "iat": now, "exp": now + exp_in}
        return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key)


@dataclass
class Mesh:
    """The registry, the CA and the gateway in-process (TestClients), wired together."""

    registry: TestClient
    jpki: TestClient
    gateway: TestClient
    idp: IdpStandIn
    apps: dict[str, Any] = field(default_factory=dict)

    def seed(self, surname: str = "山田", given: str = "太郎", **kwargs: Any) -> dict[str, Any]:
        """A new resident (household head) at the registry; their record."""
        answer = self.registry.post(f"/municipalities/{LG}/movements", headers=bearer(ADMIN),
                                    json=move_in(person(surname, given, "02", **kwargs)))
        assert answer.status_code == 201, answer.text
        return dict(answer.json()["affected"][0])

    def sign(self, juminhyo_code: str, data: bytes, key: str = "signing") -> httpx.Response:
        return self.jpki.post(f"/v1/cards/{juminhyo_code}/sign", headers=bearer(SERVICES),
                              json={"data": base64.b64encode(data).decode(), "key": key})

    def ca(self) -> x509.Certificate:
        pem = self.jpki.get("/v1/ca").json()["certificate"]
        return x509.load_pem_x509_certificate(pem.encode())

    def register_client(self, client_id: str = BANK, scopes: list[str] | None = None,
                        rate: int = 100) -> None:
        answer = self.gateway.post("/_meshcert/gateway/clients", headers=bearer(ADMIN), json={
            "client_id": client_id, "purpose": PURPOSE, "scopes": scopes or ALL_SCOPES,
            "rate_limit_per_s": rate})
        assert answer.status_code == 201, answer.text

    def consent_body(self, resident: dict[str, Any], scopes: list[str], sub: str,
                     client_id: str = BANK) -> dict[str, Any]:
        """A consent as the provider sends it: the canonical text, signed by the card."""
        text = json.dumps({"client_id": client_id, "purpose": PURPOSE, "scopes": scopes,
                           "sub": sub, "consented_at": "2026-12-04T10:00:00+00:00"},
                          ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        signed = self.sign(resident["juminhyo_code"], text.encode())
        assert signed.status_code == 200, signed.text
        return {"sub": sub, "juminhyo_code": resident["juminhyo_code"], "client_id": client_id,
                "scopes": scopes, "signed_text": text, "signature": signed.json()["signature"],
                "certificate": signed.json()["certificate"]}

    def consent(self, resident: dict[str, Any], scopes: list[str], sub: str,
                client_id: str = BANK) -> dict[str, Any]:
        answer = self.gateway.post("/v1/consents", headers=bearer(SERVICES),
                                   json=self.consent_body(resident, scopes, sub, client_id))
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


def build_mesh(tmp: Path, *, registry_app: Any = None, **gateway_extra: str) -> dict[str, Any]:
    """The three apps (and the provider stand-in) for :func:`open_mesh`."""
    idp = IdpStandIn()
    municipal = registry_app or create_app(settings("municipal", tmp))
    jpki = create_app(settings("jpki", tmp))
    jpki.state.cards.transport = httpx.ASGITransport(app=municipal)
    gateway = create_app(settings("gateway", tmp, **{"idp_issuer": IDP, **gateway_extra}))
    wire_gateway(gateway, municipal, jpki, idp)
    return {"municipal": municipal, "jpki": jpki, "gateway": gateway, "idp": idp}


def wire_gateway(gateway: Any, municipal: Any, jpki: Any, idp: IdpStandIn) -> None:
    gateway.state.registry_transport = httpx.ASGITransport(app=municipal)
    gateway.state.jpki.transport = httpx.ASGITransport(app=jpki)
    provider = httpx.ASGITransport(app=idp.app())
    if gateway.state.idp_keys is not None:
        gateway.state.idp_keys.transport = provider
    if gateway.state.introspection is not None:
        gateway.state.introspection.transport = provider


@contextmanager
def open_mesh(tmp: Path, **gateway_extra: str) -> Iterator[Mesh]:
    apps = build_mesh(tmp, **gateway_extra)
    with TestClient(apps["municipal"]) as registry, TestClient(apps["jpki"]) as jpki, \
            TestClient(apps["gateway"]) as gateway:
        yield Mesh(registry, jpki, gateway, apps["idp"], apps)
