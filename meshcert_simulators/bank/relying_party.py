"""The app of a relying party of digital authentication, as the bank and the front app
(meshcert_simulators/frontapp/) are built: the provider (the topology's ``idp``, the client key
``signing_key``), sessions, the login flow and its routes, and logging out; each adds its own
routes behind :func:`signed_in`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.bank.id_token import IdTokenValidator
from meshcert_simulators.bank.login import SCOPES, LoginFlow, install_login_routes
from meshcert_simulators.bank.provider import Provider
from meshcert_simulators.bank.sessions import Session, Sessions
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.jwks import load_signing_key
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for

CALLBACK = "/callback"
SIGNED_IN = "/me"


def simulator_url(settings: Settings, kind: str, who: str) -> str:
    """The URL of the topology's simulator of ``kind``, which ``who`` (e.g. "the bank") needs."""
    topology = settings.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    if name is None:
        raise ValueError(f"{who} needs a {kind} simulator in topology {topology.name!r}")
    return topology.url(name)


def build_relying_party_app(settings: Settings, *, who: str, client_id: str, cookie: str,
                            title: str, description: str,
                            scopes: tuple[str, ...] = SCOPES
                            ) -> tuple[FastAPI, httpx.AsyncClient]:
    """:func:`build_app` with ``app.state.provider``, ``sessions`` and ``login_flow``, the
    routes ``GET /login``, ``GET /callback`` (303 to ``/me``) and ``POST /logout``; also the
    HTTP client for the app's own peers (closed at shutdown)."""
    spec = settings.spec
    if spec.signing_key is None:
        raise ValueError(f"simulators.{settings.name}.signing_key: {who}'s private JWK (its "
                         "private_key_jwt client key) is needed")
    http = httpx.AsyncClient(verify=trust_for(settings.tls_dir), timeout=10)
    provider = Provider(issuer=simulator_url(settings, "idp", who), client_id=client_id,
                        client_key=load_signing_key(Path(spec.signing_key)), http=http)
    app = build_app(settings, title=title, description=description)
    app.state.provider = provider
    app.state.sessions = Sessions()
    app.state.login_flow = LoginFlow(provider, IdTokenValidator(provider),
                                     f"{settings.topology.url(settings.name)}{CALLBACK}",
                                     scopes=scopes)
    _close_at_shutdown(app, http)
    install_login_routes(app, cookie, CALLBACK, signed_in=SIGNED_IN)

    @app.post("/logout", tags=["login"], operation_id="logout", status_code=204,
              summary="End the session")
    async def logout(request: Request) -> Response:
        browser = request.cookies.get(cookie)
        if browser:
            app.state.sessions.end(browser)
        response = Response(status_code=204)
        response.delete_cookie(cookie, path="/")
        return response

    return app, http


def signed_in(app: FastAPI, request: Request, cookie: str) -> Session:
    """The session of the request's browser; a 401 problem when it has none."""
    browser = request.cookies.get(cookie)
    session = app.state.sessions.session(browser) if browser else None
    if session is None:
        raise Problem(401, "not-signed-in", "Not signed in", "log in at /login")
    return session


def _close_at_shutdown(app: FastAPI, http: httpx.AsyncClient) -> None:
    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                await http.aclose()

    app.router.lifespan_context = lifespan
