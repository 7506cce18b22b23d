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

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from meshcert_simulators.bank.facts import Facts, Gateway, Revoked
from meshcert_simulators.bank.login import PURPOSE
from meshcert_simulators.bank.relying_party import (
    build_relying_party_app,
    signed_in,
    simulator_url,
)
from meshcert_simulators.bank.sessions import COOKIE
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings

CLIENT_ID = "bank-account-opening"
WHO = "the bank"


def _client_id(settings: Settings) -> str:
    return settings.extra.get("client_id") or os.environ.get("MESHCERT_BANK_CLIENT_ID") \
        or CLIENT_ID


def create_app(settings: Settings) -> FastAPI:
    app, http = build_relying_party_app(
        settings, who=WHO, client_id=_client_id(settings), cookie=COOKIE,
        title="meshcert reference bank account-opening service", description=__doc__ or "")
    app.state.gateway = Gateway(simulator_url(settings, "gateway", WHO), http)

    @app.get("/me", tags=["account"], operation_id="getMe",
             summary="The signed-in person's basic facts, as the gateway gives them now")
    async def me(request: Request) -> Response:
        session = signed_in(app, request, COOKIE)
        outcome = await app.state.gateway.facts(session.access_token)
        if isinstance(outcome, Facts):
            return JSONResponse({"sub": session.sub, "purpose": PURPOSE,
                                 "facts": outcome.values})
        if isinstance(outcome, Revoked):
            app.state.sessions.end(request.cookies.get(COOKIE) or "")
            raise Problem(403, "consent-revoked", "Consent no longer given",
                          "the gateway provides no more of this person's facts; log in "
                          "again to give consent")
        headers = ({"Retry-After": str(max(1, round(outcome.retry_after)))}
                   if outcome.retry_after is not None else {"Retry-After": "1"})
        status = 504 if outcome.reason == "gateway-timeout" else 503
        raise Problem(status, "try-again", "Please try again",
                      f"the facts cannot be shown now ({outcome.reason}); nothing is shown "
                      "rather than something unsure", headers=headers, reason=outcome.reason)

    return app
