"""Shared helpers of the digital-authentication (idp) tests: the provider and its resident
registry in-process, a minimal relying party, and one HTTP client that reaches all three by
host (as a browser would), so the scripted holder drives a whole login with no sockets."""

from __future__ import annotations

import base64
import hashlib
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import Key, KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from meshcert_simulators.authz.tokens import (
    CLIENT_ASSERTION_TYPE,
    load_signing_key,
    make_client_assertion,
)
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, load_topology
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import juminhyo_code, move_in, person

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOPOLOGY_PATH = fixture_path("topologies", "idp.yaml")
RP = "demo-relying-party"
LG = "131016"
ALL_SCOPES = "openid name address birthdate gender"


def idp_topology() -> Topology:
    return load_topology(TOPOLOGY_PATH)


def rp_key() -> Key:
    return load_signing_key(fixture_path("keys", f"{RP}.private.jwk.json"))


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {idp_topology().admin_token}"}


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Login:
    state: str
    nonce: str
    verifier: str


@dataclass
class RelyingPartyStub:
    """The relying party's two pages: ``/login`` sends the person to the provider with a fresh
    state, nonce and PKCE pair; ``/callback`` shows what came back. It never redeems the code:
    the tests do, to check each answer."""

    issuer: str
    redirect_uri: str
    scope: str = ALL_SCOPES
    logins: dict[str, Login] = field(default_factory=dict)

    def authorize_url(self, **overrides: str | None) -> tuple[str, Login]:
        verifier, challenge = pkce()
        login = Login(secrets.token_urlsafe(16), secrets.token_urlsafe(16), verifier)
        params: dict[str, str | None] = {
            "response_type": "code", "client_id": RP, "redirect_uri": self.redirect_uri,
            "scope": self.scope, "state": login.state, "nonce": login.nonce,
            "code_challenge": challenge, "code_challenge_method": "S256", **overrides}
        self.logins[login.state] = login
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.issuer}/authorize?{query}", login

    def app(self) -> ASGIApp:
        async def login(_: Request) -> Response:
            return RedirectResponse(self.authorize_url()[0], 302)

        async def callback(request: Request) -> Response:
            return JSONResponse(dict(request.query_params))

        return Starlette(routes=[Route("/login", login), Route("/callback", callback)])


def by_host(apps: dict[str, ASGIApp]) -> ASGIApp:
    """One ASGI app that hands each request to the app of its Host."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        host = dict(scope.get("headers", [])).get(b"host", b"").decode()
        await apps[host](scope, receive, send)

    return route


@dataclass
class World:
    idp: Any
    municipal: Any
    rp: RelyingPartyStub
    http: TestClient          # reaches the provider and the relying party by host
    registry: TestClient
    issuer: str
    rp_base: str

    @property
    def provider(self) -> Any:
        return self.idp.state.provider

    def resident(self, surname: str = "山田", given: str = "花子",
                 kana: tuple[str, str] = ("ヤマダ", "ハナコ"), sex: str = "2") -> dict[str, Any]:
        """A new resident of the registry (a move-in); their record."""
        body = move_in(person(surname, given, "02", kana=kana, sex=sex,
                              juminhyo_code=juminhyo_code()))
        moved = self.registry.post(f"/municipalities/{LG}/movements", headers=admin(),
                                   json=body)
        assert moved.status_code == 201, moved.text
        return dict(moved.json()["affected"][0])

    def redeem(self, code: str, login: Login, *, assertion: str | None = None,
               **form: str | None) -> httpx.Response:
        return redeem(self.http, self.issuer, self.rp.redirect_uri, code, login,
                      assertion=assertion, **form)

    def key_set(self) -> KeySet:
        return key_set(self.http, self.issuer)

    def id_claims(self, id_token: str) -> dict[str, Any]:
        return id_claims(self.http, self.issuer, id_token)


def redeem(http: httpx.Client, issuer: str, callback: str, code: str, login: Login, /, *,
           assertion: str | None = None, **form: str | None) -> httpx.Response:
    """Exchange ``code`` at the token endpoint as the relying party would (``form`` changes
    or, with None, removes a field)."""
    fields: dict[str, str | None] = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
        "code_verifier": login.verifier, "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion or make_client_assertion(rp_key(), RP,
                                                               f"{issuer}/token"),
        **form}
    return http.post(f"{issuer}/token", data={k: v for k, v in fields.items() if v is not None})


def key_set(http: httpx.Client, issuer: str) -> KeySet:
    return KeySet.import_key_set(http.get(f"{issuer}/jwks").json())


def id_claims(http: httpx.Client, issuer: str, id_token: str) -> dict[str, Any]:
    """The claims of an ID token whose signature verifies against the published JWKS."""
    return dict(jwt.decode(id_token, key_set(http, issuer), algorithms=["ES256"]).claims)


def make_world(tmp_path: Path, topology: Topology | None = None,
               counterparts: dict[str, ASGIApp] | None = None) -> World:
    """The registry, provider and relying party of ``topology`` (default: idp.yaml); the
    provider reaches the registry, and the ``counterparts`` by host, in-process."""
    topology = topology or idp_topology()
    municipal = create_app(Settings(name="municipal", topology=topology,
                                    data_dir=tmp_path / "municipal", access_log=False))
    idp = create_app(Settings(name="idp", topology=topology, data_dir=tmp_path / "idp",
                              access_log=False))
    idp.state.http_transport = httpx.ASGITransport(app=by_host({
        topology.url("municipal").split("//")[1]: municipal, **(counterparts or {})}))
    issuer = topology.url("idp")
    client = topology.client(RP)
    assert client is not None
    redirect = client.redirect_uris[0]
    rp_base = redirect.rsplit("/", 1)[0]
    rp = RelyingPartyStub(issuer, redirect)
    hosts = {issuer.split("//")[1]: idp, rp_base.split("//")[1]: rp.app()}
    http = TestClient(by_host(hosts), base_url=issuer, raise_server_exceptions=False)
    return World(idp, municipal, rp, http, TestClient(municipal), issuer, rp_base)
