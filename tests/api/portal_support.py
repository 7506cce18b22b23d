"""Shared helpers of the portal tests: the portal in-process with two real resident registries
(the old municipality 131016 and the new 131041), wired by ASGI transports; a stand-in for the
idp (signing keys, JWKS, introspection naming the person) and stand-ins for the record keepers
(mesh, gateway, account registry) serving canned records."""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from meshcert_simulators.common.jwks import generate_key
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import topology_from_raw
from meshcert_simulators.municipal.registry import JST
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import arrival, person

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OLD_LG = "131016"
NEW_LG = "131041"
ADMIN = "meshcert-admin-portal-test-0001"
PORTAL_TOKEN = "meshcert-portal-credential-test-0001"
IDP = "http://idp.test"
FRONT = "front-app"
PORTS = {"municipal": 23951, "municipal-new": 23952, "mesh": 23953, "gateway": 23954,
         "portal": 23950}
ACCOUNTS_URL = "http://accounts.test"

RAW: dict[str, Any] = {
    "name": "portal-test", "admin_token": ADMIN,
    "simulators": {
        "municipal": {"kind": "municipal", "port": PORTS["municipal"],
                      "municipalities": [OLD_LG], "auth": ["token"]},
        "municipal-new": {"kind": "municipal", "port": PORTS["municipal-new"],
                          "municipalities": [NEW_LG], "auth": ["token"]},
        "mesh": {"kind": "mesh", "port": PORTS["mesh"], "auth": ["token"]},
        "gateway": {"kind": "gateway", "port": PORTS["gateway"], "auth": ["token"]},
        "portal": {"kind": "portal", "port": PORTS["portal"], "auth": ["token"]}},
    "institutions": [{"code": "mynaportal", "name": "マイナポータル", "client": "portal"}],
    "clients": [
        {"id": "portal", "token": PORTAL_TOKEN,
         "roles": ["registry:read", "moveout:submit", "idp:introspect", "idp:person-link",
                   "gateway:audit", "accounts:records"]}]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jst_today() -> Any:
    return datetime.now(UTC).astimezone(JST).date()


class IdpStandIn:
    """The provider: signs access tokens, serves its JWKS, and introspects them — naming the
    person (``juminhyo_code``) as the real idp does for ``idp:person-link``."""

    def __init__(self) -> None:
        self.key: ECKey = generate_key()
        self.persons: dict[str, str] = {}      # jti -> 住民票コード
        self.revoked: set[str] = set()
        self.introspections = 0

    def app(self) -> Starlette:
        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        async def introspect(request: Request) -> JSONResponse:
            self.introspections += 1
            assert request.headers["authorization"] == f"Bearer {PORTAL_TOKEN}"
            token = parse_qs((await request.body()).decode())["token"][0]
            jti = jwt.decode(token, self.key).claims["jti"]
            if jti in self.revoked or jti not in self.persons:
                return JSONResponse({"active": False})
            return JSONResponse({"active": True, "sub": f"sub-{self.persons[jti]}",
                                 "client_id": FRONT, "juminhyo_code": self.persons[jti]})

        return Starlette(routes=[Route("/jwks", jwks),
                                 Route("/introspect", introspect, methods=["POST"])])

    def token(self, juminhyo_code: str, *, aud: Any = None, exp_in: int = 300,
              client_id: str = FRONT) -> str:
        now = int(time.time())
        jti = secrets.token_hex(8)
        self.persons[jti] = juminhyo_code
        claims = {"iss": IDP, "sub": f"sub-{juminhyo_code}",
                  "aud": aud or ["urn:meshcert:gateway", "urn:meshcert:portal", IDP],
                  "client_id": client_id, "scope": "openid name address", "jti": jti,
                  "iat": now, "exp": now + exp_in}
        return jwt.encode({"alg": "ES256", "kid": self.key.kid, "typ": "at+jwt"}, claims,
                          self.key)


@dataclass
class Keepers:
    """Canned records of the mesh, the gateway and the account registry, and what was asked."""

    mesh: dict[str, list[dict[str, Any]]] = field(default_factory=dict)       # 住民票 -> recs
    gateway: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    accounts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    down: set[str] = field(default_factory=set)

    def mesh_app(self) -> Starlette:
        async def codes(request: Request) -> JSONResponse:
            person = (await request.json())["juminhyo_code"]
            code = ("A" * 21 + person)[-32:].translate(str.maketrans("0189", "QRST"))
            return JSONResponse({"institution": "mynaportal", "code": code,
                                 "newly_issued": False})

        async def records(request: Request) -> JSONResponse:
            if "mesh" in self.down:
                return JSONResponse({"type": "x", "title": "down", "status": 503}, 503)
            code = request.query_params["code"]
            person = code.translate(str.maketrans("QRST", "0189"))[-11:]
            self.asked.append(f"mesh:{person}")
            return JSONResponse({"records": self.mesh.get(person, [])})

        return Starlette(routes=[Route("/v1/codes", codes, methods=["POST"]),
                                 Route("/v1/provision-records", records)])

    def paged_app(self, name: str, store: dict[str, list[dict[str, Any]]], param: str
                  ) -> Starlette:
        async def records(request: Request) -> JSONResponse:
            person = request.query_params[param]
            self.asked.append(f"{name}:{person}")
            after = int(request.query_params.get("after", "0"))
            rows = [r for r in store.get(person, []) if r["seq"] > after]
            return JSONResponse({"records": rows, "next_after": rows[-1]["seq"] if rows else after,
                                 "has_more": False})

        path = "/v1/provision-records" if name == "gateway" else "/v1/records"
        return Starlette(routes=[Route(path, records)])


@dataclass
class World:
    portal: TestClient
    old: TestClient
    new: TestClient
    idp: IdpStandIn
    keepers: Keepers
    apps: dict[str, Any]

    def resident(self, surname: str = "山田", given: str = "太郎", lg: str = OLD_LG,
                 *members: dict[str, Any]) -> list[dict[str, Any]]:
        """A new household at ``lg``'s registry (its head first); their records."""
        client = self.old if lg == OLD_LG else self.new
        answer = client.post(f"/municipalities/{lg}/movements", headers=bearer(ADMIN),
                             json=arrival(lg, person(surname, given, "02"), *members,
                                          on=jst_today() - timedelta(days=200)))
        assert answer.status_code == 201, answer.text
        return list(answer.json()["affected"])

    def as_person(self, record: dict[str, Any], **kwargs: Any) -> dict[str, str]:
        return bearer(self.idp.token(record["juminhyo_code"], **kwargs))


def settings(name: str, data_dir: Path, **extra: str) -> Settings:
    return Settings(name=name, topology=topology_from_raw(RAW, Path(".")),
                    data_dir=data_dir / name, access_log=False, extra=dict(extra))


def build_portal(tmp: Path, idp: IdpStandIn, keepers: Keepers, old: Any, new: Any) -> Any:
    portal = create_app(settings("portal", tmp, idp_issuer=IDP, accounts_url=ACCOUNTS_URL))
    mounts = portal.state.peer_mounts
    mounts[f"http://127.0.0.1:{PORTS['municipal']}"] = httpx.ASGITransport(app=old)
    mounts[f"http://127.0.0.1:{PORTS['municipal-new']}"] = httpx.ASGITransport(app=new)
    mounts[f"http://127.0.0.1:{PORTS['mesh']}"] = httpx.ASGITransport(app=keepers.mesh_app())
    mounts[f"http://127.0.0.1:{PORTS['gateway']}"] = httpx.ASGITransport(
        app=keepers.paged_app("gateway", keepers.gateway, "juminhyo_code"))
    mounts[ACCOUNTS_URL] = httpx.ASGITransport(
        app=keepers.paged_app("accounts", keepers.accounts, "person"))
    provider = httpx.ASGITransport(app=idp.app())
    portal.state.tokens.verifier.keys.transport = provider
    portal.state.tokens.link.transport = provider
    return portal


@contextmanager
def open_world(tmp: Path) -> Iterator[World]:
    idp, keepers = IdpStandIn(), Keepers()
    old = create_app(settings("municipal", tmp))
    new = create_app(settings("municipal-new", tmp))
    portal = build_portal(tmp, idp, keepers, old, new)
    with ExitStack() as stack:
        clients = [stack.enter_context(TestClient(app)) for app in (portal, old, new)]
        yield World(*clients, idp, keepers, {"portal": portal, "municipal": old,
                                             "municipal-new": new})
