"""The reference front service: the online move-out (転出届) for a person or their proxy
(profile front-service), a relying party of digital authentication filing on the portal.

- ``GET /login`` starts a login (PKCE S256, fresh state and nonce; the bank's relying-party
  code, meshcert_simulators/bank/, does the OpenID Connect part); ``GET /callback`` checks the
  answer, redeems the code with ``private_key_jwt`` and signs the person in (303 to ``/me``).
- ``GET /me``: who is signed in — name and current address, as digital authentication's
  userinfo gives them now (the form shows them; the app keeps none).
- ``POST /moveouts`` (JSON :class:`MoveoutForm`): files the move-out on the portal with a new
  idempotency key, resent with the same key when the portal does not answer in time; a proxy's
  filing (``on_behalf_of``) only after the portal shows the delegation covers it now. The
  portal's answer is passed on: 201/200 with the application, or its problem (e.g. 422
  outside-filing-window).
- ``GET /moveouts/{id}``: the application's status as the portal reports it now (受付, 処理中,
  完了); ``503`` when it cannot be read — never a remembered or guessed status.

Configuration from the topology: ``idp`` (issuer = its URL) and ``portal`` simulators, the
client key ``signing_key``; client id ``front-app`` unless ``settings.extra['client_id']``;
``settings.extra['resend_after_s']`` (default 3) is how long it waits for the portal.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from meshcert_simulators.bank.id_token import IdTokenValidator
from meshcert_simulators.bank.login import LoginFlow, install_login_routes
from meshcert_simulators.bank.provider import Provider, ProviderError
from meshcert_simulators.bank.sessions import Session, Sessions
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.http import json_body
from meshcert_simulators.common.jwks import load_signing_key
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.frontapp.delegations import Delegations
from meshcert_simulators.frontapp.form import MoveoutForm, filing
from meshcert_simulators.frontapp.portal import RESEND_AFTER_S, Portal, PortalUnavailable

CLIENT_ID = "front-app"
CALLBACK = "/callback"
COOKIE = "front_session"
# The form shows who files and from where: name and current address, nothing more.
SCOPES = ("openid", "name", "address")


def _simulator_url(settings: Settings, kind: str) -> str:
    topology = settings.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    if name is None:
        raise ValueError(f"the front app needs a {kind} simulator in topology {topology.name!r}")
    return topology.url(name)


def create_app(settings: Settings) -> FastAPI:
    spec = settings.spec
    if spec.signing_key is None:
        raise ValueError(f"simulators.{settings.name}.signing_key: the front app's private JWK "
                         "(its private_key_jwt client key) is needed")
    http = httpx.AsyncClient(verify=trust_for(settings.tls_dir), timeout=10)
    provider = Provider(issuer=_simulator_url(settings, "idp"),
                        client_id=settings.extra.get("client_id") or CLIENT_ID,
                        client_key=load_signing_key(Path(spec.signing_key)), http=http)
    portal = Portal(_simulator_url(settings, "portal"), http,
                    float(settings.extra.get("resend_after_s") or RESEND_AFTER_S))
    app = build_app(settings, title="meshcert reference front service (online move-out)",
                    description=__doc__ or "")
    app.state.provider = provider
    app.state.portal = portal
    app.state.delegations = Delegations(portal)
    app.state.sessions = Sessions()
    app.state.login_flow = LoginFlow(provider, IdTokenValidator(provider),
                                     f"{settings.topology.url(settings.name)}{CALLBACK}",
                                     scopes=SCOPES)
    app.state.filing = filing

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                await http.aclose()

    app.router.lifespan_context = lifespan

    def signed_in(request: Request) -> Session:
        browser = request.cookies.get(COOKIE)
        session = app.state.sessions.session(browser) if browser else None
        if session is None:
            raise Problem(401, "not-signed-in", "Not signed in", "log in at /login")
        return session

    install_login_routes(app, COOKIE, CALLBACK, signed_in="/me")

    @app.get("/me", tags=["login"], operation_id="getMe",
             summary="Who is signed in: name and current address, from digital authentication")
    async def me(request: Request) -> Response:
        session = signed_in(request)
        try:
            endpoint = (await app.state.provider.metadata())["userinfo_endpoint"]
            answer = await http.get(endpoint, headers={
                "Authorization": f"Bearer {session.access_token}"})
        except (ProviderError, httpx.HTTPError, KeyError) as exc:
            raise Problem(503, "try-again", "Please try again",
                          f"digital authentication did not answer ({exc})",
                          headers={"Retry-After": "1"}) from None
        if answer.status_code != 200:
            app.state.sessions.end(request.cookies.get(COOKIE) or "")
            raise Problem(401, "not-signed-in", "Not signed in",
                          f"digital authentication no longer knows this login "
                          f"({answer.status_code}); log in again")
        claims = answer.json()
        return JSONResponse({"sub": session.sub, "name": claims.get("name"),
                             "address": claims.get("address")})

    @app.post("/moveouts", tags=["move-out"], operation_id="fileMoveout", status_code=201,
              summary="File the online move-out on the portal (the person's, or a principal's)")
    async def file_moveout(request: Request) -> Response:
        session = signed_in(request)
        form = await json_body(request, MoveoutForm)
        try:
            if form.on_behalf_of:
                refusal = await app.state.delegations.refusal(session.access_token,
                                                              form.on_behalf_of)
                if refusal:
                    raise Problem(403, "not-delegated", "Not allowed for this principal",
                                  refusal)
            answer = await app.state.portal.file_moveout(
                session.access_token, app.state.filing(form, str(uuid.uuid4())))
        except PortalUnavailable as exc:
            raise Problem(503, "try-again", "The portal did not answer", str(exc),
                          headers={"Retry-After": "5"}) from None
        return _passed_on(answer.status, answer.body)

    @app.get("/moveouts/{moveout_id}", tags=["move-out"], operation_id="getMoveout",
             summary="The move-out's status as the portal reports it now")
    async def get_moveout(request: Request, moveout_id: str) -> Response:
        session = signed_in(request)
        try:
            answer = await app.state.portal.moveout(session.access_token, moveout_id)
        except PortalUnavailable as exc:
            raise Problem(503, "try-again", "The status cannot be read now",
                          f"{exc}; no status is shown rather than an unsure one",
                          headers={"Retry-After": "5"}) from None
        return _passed_on(answer.status, answer.body)

    @app.post("/logout", tags=["login"], operation_id="logout", status_code=204,
              summary="End the session")
    async def logout(request: Request) -> Response:
        browser = request.cookies.get(COOKIE)
        if browser:
            app.state.sessions.end(browser)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    return app


def _passed_on(status: int, body: Any) -> Response:
    """The portal's answer as the app's: a success as JSON, an error as its problem."""
    if status < 400:
        return JSONResponse(body, status_code=status)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
