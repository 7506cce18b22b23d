"""The harness's control plane of the provider, under ``/_meshcert/idp/`` (admin credential;
kept out of the contract like the fault API): register relying parties, make the next answers
to a client misbehave, rotate the signing key."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from joserfc.errors import JoseError
from joserfc.jwk import import_key
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from meshcert_simulators.common.auth import ADMIN_ROLE, require
from meshcert_simulators.common.http import json_body
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.idp.clients import RelyingParty
from meshcert_simulators.idp.keys import NoKeyWaiting
from meshcert_simulators.idp.models import ClientRegistration, Misbehave
from meshcert_simulators.idp.provider import Provider

PREFIX = "/_meshcert/idp"


def _keys(provider: Provider) -> dict[str, Any]:
    return {"signing_kid": str(provider.keys.signing.kid), "keys": provider.keys.state()}


def install(app: FastAPI, provider: Provider) -> None:
    hidden: dict[str, Any] = {"include_in_schema": False}

    def admin(request: Request) -> None:
        require(app.state.authenticator.authenticate(request), ADMIN_ROLE)

    @app.post(f"{PREFIX}/clients", status_code=201, **hidden)
    async def register_client(request: Request) -> Response:
        admin(request)
        body = await json_body(request, ClientRegistration)
        try:
            key = import_key(body.public_jwk)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise Problem(422, "invalid-jwk", "public_jwk is not a valid JWK", str(exc)) \
                from None
        if key.is_private:
            raise Problem(422, "private-jwk", "Register the public key only",
                          "public_jwk holds private key material")
        key.ensure_kid()
        party = RelyingParty(body.client_id, tuple(body.redirect_uris), key,
                             frozenset(body.scopes), body.purpose)
        provider.clients.register(party)
        return JSONResponse(provider.clients.describe(party), 201)

    @app.post(f"{PREFIX}/misbehave", status_code=202, **hidden)
    async def misbehave(request: Request) -> Response:
        admin(request)
        body = await json_body(request, Misbehave)
        if provider.clients.get(body.client_id) is None:
            raise Problem(404, "unknown-client", "No such client",
                          f"{body.client_id!r} is not registered here")
        provider.misbehaviour.add(body.client_id, body.fault, body.count)
        return JSONResponse({"pending": provider.misbehaviour.pending()}, 202)

    @app.get(f"{PREFIX}/misbehave", **hidden)
    async def pending(request: Request) -> Response:
        admin(request)
        return JSONResponse({"pending": provider.misbehaviour.pending()})

    @app.delete(f"{PREFIX}/misbehave", status_code=204, **hidden)
    async def clear(request: Request) -> Response:
        admin(request)
        provider.misbehaviour.clear()
        return Response(status_code=204)

    @app.get(f"{PREFIX}/keys", **hidden)
    async def key_state(request: Request) -> Response:
        admin(request)
        return JSONResponse(_keys(provider))

    @app.post(f"{PREFIX}/keys/publish", status_code=201, **hidden)
    async def publish(request: Request) -> Response:
        admin(request)
        entry = provider.keys.publish()
        return JSONResponse({"published_kid": str(entry.key.kid), **_keys(provider)}, 201)

    @app.post(f"{PREFIX}/keys/activate", **hidden)
    async def activate(request: Request) -> Response:
        admin(request)
        try:
            provider.keys.activate()
        except NoKeyWaiting as exc:
            raise Problem(409, "no-key-published", "No newly published key to activate",
                          str(exc)) from None
        return JSONResponse(_keys(provider))
