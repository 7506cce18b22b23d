"""The reference private service: a bank's account-opening service (口座開設), a relying party of
digital authentication (profile private-service).

- ``GET /login`` starts a login: a fresh ``state``, ``nonce`` and PKCE verifier, kept against a
  cookie; 302 to the provider's authorization endpoint (from discovery) asking for the scopes
  account opening needs (name, address, birthdate).
- ``GET /callback`` takes the provider's answer: refuses an error answer, a wrong state, and
  any ID token that fails OpenID Connect Core §3.1.3.7 (id_token.py holds each check);
  redeems the code with ``private_key_jwt`` and PKCE; signs the person in (303 to ``/me``).
- ``GET /me``: the signed-in person's basic facts, asked of the gov-private API gateway on
  every request (``401`` without a session; the session ends when the gateway says the consent
  was revoked; ``503``/``504`` "try again" on a rate limit or timeout, honouring Retry-After).
- ``POST /logout`` ends the session.

Configuration from the topology: the provider is its ``idp`` simulator (issuer = its URL), the
gateway its ``gateway`` simulator, the client key ``signing_key``; the client id is
``bank-account-opening`` unless ``settings.extra['client_id']`` / ``MESHCERT_BANK_CLIENT_ID``
says otherwise. The bank never asks for, receives or keeps the My Number.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from meshcert_simulators.bank.facts import Facts, Gateway, Revoked
from meshcert_simulators.bank.id_token import IdTokenValidator
from meshcert_simulators.bank.login import PURPOSE, LoginFlow, install_login_routes
from meshcert_simulators.bank.provider import Provider
from meshcert_simulators.bank.sessions import COOKIE, Sessions
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.jwks import load_signing_key
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for

CLIENT_ID = "bank-account-opening"
CALLBACK = "/callback"


def _simulator_url(settings: Settings, kind: str) -> str:
    topology = settings.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    if name is None:
        raise ValueError(f"the bank needs a {kind} simulator in topology {topology.name!r}")
    return topology.url(name)


def _client_id(settings: Settings) -> str:
    return settings.extra.get("client_id") or os.environ.get("MESHCERT_BANK_CLIENT_ID") \
        or CLIENT_ID


def create_app(settings: Settings) -> FastAPI:
    spec = settings.spec
    if spec.signing_key is None:
        raise ValueError(f"simulators.{settings.name}.signing_key: the bank's private JWK (its "
                         "private_key_jwt client key) is needed")
    http = httpx.AsyncClient(verify=trust_for(settings.tls_dir), timeout=10)
    provider = Provider(issuer=_simulator_url(settings, "idp"), client_id=_client_id(settings),
                        client_key=load_signing_key(Path(spec.signing_key)), http=http)
    app = build_app(settings, title="meshcert reference bank account-opening service",
                    description=__doc__ or "")
    app.state.provider = provider
    app.state.sessions = Sessions()
    app.state.gateway = Gateway(_simulator_url(settings, "gateway"), http)
    app.state.login_flow = LoginFlow(provider, IdTokenValidator(provider),
                                     f"{settings.topology.url(settings.name)}{CALLBACK}")

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                await http.aclose()

    app.router.lifespan_context = lifespan

    install_login_routes(app, COOKIE, CALLBACK, signed_in="/me")

    @app.get("/me", tags=["account"], operation_id="getMe",
             summary="The signed-in person's basic facts, as the gateway gives them now")
    async def me(request: Request) -> Response:
        browser = request.cookies.get(COOKIE)
        session = app.state.sessions.session(browser) if browser else None
        if session is None:
            raise Problem(401, "not-signed-in", "Not signed in", "log in at /login")
        outcome = await app.state.gateway.facts(session.access_token)
        if isinstance(outcome, Facts):
            return JSONResponse({"sub": session.sub, "purpose": PURPOSE,
                                 "facts": outcome.values})
        if isinstance(outcome, Revoked):
            app.state.sessions.end(browser)
            raise Problem(403, "consent-revoked", "Consent no longer given",
                          "the gateway provides no more of this person's facts; log in "
                          "again to give consent")
        headers = ({"Retry-After": str(max(1, round(outcome.retry_after)))}
                   if outcome.retry_after is not None else {"Retry-After": "1"})
        status = 504 if outcome.reason == "gateway-timeout" else 503
        raise Problem(status, "try-again", "Please try again",
                      f"the facts cannot be shown now ({outcome.reason}); nothing is shown "
                      "rather than something unsure", headers=headers, reason=outcome.reason)

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
