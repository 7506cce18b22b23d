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
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from meshcert_simulators.bank.provider import ProviderError
from meshcert_simulators.bank.relying_party import (
    build_relying_party_app,
    signed_in,
    simulator_url,
)
from meshcert_simulators.common.http import json_body
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.frontapp.delegations import Delegations
from meshcert_simulators.frontapp.form import MoveoutForm, filing
from meshcert_simulators.frontapp.portal import RESEND_AFTER_S, Portal, PortalUnavailable

CLIENT_ID = "front-app"
COOKIE = "front_session"
WHO = "the front app"
# The form shows who files and from where: name and current address, nothing more.
SCOPES = ("openid", "name", "address")


def create_app(settings: Settings) -> FastAPI:
    app, http = build_relying_party_app(
        settings, who=WHO, client_id=settings.extra.get("client_id") or CLIENT_ID,
        cookie=COOKIE, title="meshcert reference front service (online move-out)",
        description=__doc__ or "", scopes=SCOPES)
    portal = Portal(simulator_url(settings, "portal", WHO), http,
                    float(settings.extra.get("resend_after_s") or RESEND_AFTER_S))
    app.state.portal = portal
    app.state.delegations = Delegations(portal)
    app.state.filing = filing

    @app.get("/me", tags=["login"], operation_id="getMe",
             summary="Who is signed in: name and current address, from digital authentication")
    async def me(request: Request) -> Response:
        session = signed_in(app, request, COOKIE)
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
        session = signed_in(app, request, COOKIE)
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
        session = signed_in(app, request, COOKIE)
        try:
            answer = await app.state.portal.moveout(session.access_token, moveout_id)
        except PortalUnavailable as exc:
            raise Problem(503, "try-again", "The status cannot be read now",
                          f"{exc}; no status is shown rather than an unsure one",
                          headers={"Retry-After": "5"}) from None
        return _passed_on(answer.status, answer.body)

    return app


def _passed_on(status: int, body: Any) -> Response:
    """The portal's answer as the app's: a success as JSON, an error as its problem."""
    if status < 400:
        return JSONResponse(body, status_code=status)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
