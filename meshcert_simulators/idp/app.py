"""The digital-authentication simulator (デジタル認証): an OpenID provider over the registry's
synthetic population (meshcert_simulators/idp/README.md says how to use it).

OAuth endpoints (``/token``, ``/introspect``, and the redirects of ``/authorize``) answer in the
OAuth error format RFC 6749 requires; every other error is problem+json. The control plane
under ``/_meshcert/idp/`` (admin credential) is the harness's, kept out of the contract like the
fault API.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from meshcert_simulators.authz.app import NO_STORE, parse_form
from meshcert_simulators.authz.server import OAuthError
from meshcert_simulators.common import exchanges
from meshcert_simulators.common.app import FORM_MEDIA_TYPE, build_app
from meshcert_simulators.common.auth import TokenRejected, invalid_token
from meshcert_simulators.common.http import (
    install_openapi,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.idp import control
from meshcert_simulators.idp.clients import ClientAssertions, Clients, topology_clients
from meshcert_simulators.idp.consent import ConsentNotRecorded, consent_targets, record_consent
from meshcert_simulators.idp.keys import KeyRing
from meshcert_simulators.idp.models import (
    Discovery,
    Introspection,
    JwkSet,
    OAuthErrorResponse,
    TokenResponse,
    UserInfo,
)
from meshcert_simulators.idp.page import error_page, login_page
from meshcert_simulators.idp.persons import Persons, RegistrySource, claims_for
from meshcert_simulators.idp.provider import NoRedirect, Provider, RedirectError
from meshcert_simulators.idp.userinfo import AccessTokens

DECISION_PATH = "/authorize/decision"
DEFAULT_CLIENT = "idp"
INTROSPECT_ROLE = "idp:introspect"
PERSON_LINK_ROLE = "idp:person-link"  # introspection also names the person (the portal only)
JUMINHYO = re.compile(r"[0-9]{11}")
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                    "code_challenge", "code_challenge_method")
# The consent page is never cached nor framed by another site (clickjacking a consent).
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                "Content-Security-Policy": "frame-ancestors 'none'"}
TOKEN_FIELDS = ("grant_type", "code", "redirect_uri", "code_verifier", "client_assertion_type",
                "client_assertion", "client_id")


def _setting(settings: Settings, key: str, default: str | None) -> str | None:
    return settings.extra.get(key) or os.environ.get(f"MESHCERT_IDP_{key.upper()}", default)


def registry_source(settings: Settings, token: str | None) -> RegistrySource | None:
    """The registry the persons are read from: ``registry`` (setting) or the topology's first
    municipal simulator."""
    topology = settings.topology
    name = _setting(settings, "registry", None) or next(
        (n for n, s in topology.simulators.items() if s.kind == "municipal"), None)
    if name is None:
        return None
    return RegistrySource(topology.url(name), topology.simulator(name).municipalities, token)


def _oauth(content: dict[str, Any], status: int = 200) -> JSONResponse:
    model: type[BaseModel] = TokenResponse if status == 200 else OAuthErrorResponse
    return JSONResponse(model.model_validate(content).model_dump(mode="json"), status,
                        headers=NO_STORE)


def _form_doc(fields: tuple[str, ...], required: list[str]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {FORM_MEDIA_TYPE: {"schema": {
        "type": "object", "required": required,
        "properties": {f: {"type": "string"} for f in fields}}}}}}


def _caller_named(form: dict[str, str]) -> str | None:
    """The client a token request names (its ``client_id``, else its assertion's unverified
    ``iss``): only to file the exchange under it, never to authenticate."""
    if form.get("client_id"):
        return form["client_id"]
    parts = form.get("client_assertion", "").split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _not_sent_back(request: Request, slug: str, detail: str) -> Response:
    """An authorization request that cannot go back to the service: a page for a browser,
    problem+json for anything else."""
    if _wants_html(request):
        return HTMLResponse(error_page("リクエストを処理できません", "The request cannot be "
                                       "processed", detail), 400)
    raise Problem(400, slug, "The authorization request cannot be answered", detail)


def create_app(settings: Settings) -> FastAPI:
    topology = settings.topology
    issuer = topology.url(settings.name)
    keys = KeyRing(Path(settings.data_dir) / f"{settings.name}-keys.json",
                   keep_s=Provider.token_lifetime)
    clients = Clients(ClientAssertions(issuer, f"{issuer}/token", keys.signing,
                                       clock=time.time))
    for party in topology_clients(topology):
        clients.register(party)
    provider = Provider(issuer=issuer, keys=keys, clients=clients)
    client = topology.client(str(_setting(settings, "client", DEFAULT_CLIENT)))
    token = client.token if client else None
    persons = Persons(registry_source(settings, token), settings.tls_dir)
    targets = consent_targets(settings, token)

    app = build_app(settings, title="meshcert digital-authentication simulator",
                    description="An OpenID provider (authorization code flow, PKCE S256, "
                                "private_key_jwt) over the registry's synthetic population.",
                    form_paths={"/token", DECISION_PATH, "/introspect"})
    exchanges.install(app)
    app.state.provider = provider
    app.state.persons = persons
    # None: the network; tests serve the registry, gateway and jpki in-process through it.
    app.state.http_transport = None
    errors = problem_responses(400, 401, 404, 413, 415, 422, 502)
    no_auth: dict[str, Any] = {"security": []}

    def the_persons() -> Persons:
        app.state.persons.transport = app.state.http_transport
        return app.state.persons

    @app.get("/.well-known/openid-configuration", response_model=Discovery, tags=["oidc"],
             operation_id="discovery", summary="OpenID provider metadata", responses=errors,
             openapi_extra=no_auth)
    async def discovery() -> Response:
        return validated_response(Discovery, app.state.provider.discovery())

    @app.get("/jwks", response_model=JwkSet, tags=["oidc"], operation_id="jwks",
             summary="The public keys: the signing key, a key published for rotation, and a "
                     "retired key until its tokens have expired",
             responses=errors, openapi_extra=no_auth)
    async def jwks() -> Response:
        return validated_response(JwkSet, app.state.provider.keys.jwks())

    @app.get("/authorize", response_class=HTMLResponse, tags=["oidc"],
             operation_id="authorize",
             summary="Authorization endpoint: the login-and-consent page, or a redirect back "
                     "with error and state",
             responses={200: {"content": {"text/html": {}},
                              "description": "The login-and-consent page"},
                        302: {"description": "Back to the redirect URI with error and state"},
                        **errors},
             openapi_extra={**no_auth, "parameters": [
                 {"name": p, "in": "query", "required": False, "schema": {"type": "string"}}
                 for p in AUTHORIZE_PARAMS]})
    async def authorize(request: Request) -> Response:
        pairs = request.query_params.multi_items()
        params = dict(pairs)
        request.scope.setdefault("state", {})["client_id"] = params.get("client_id") or None
        try:
            if len(params) != len(pairs):
                raise NoRedirect("repeated-parameter", "a parameter is given more than once")
            transaction = app.state.provider.authorize(params)
        except NoRedirect as exc:
            return _not_sent_back(request, exc.slug, exc.detail)
        except RedirectError as exc:
            return RedirectResponse(exc.location, 302)
        listed = await the_persons().listed()
        return HTMLResponse(login_page(transaction, listed), headers=PAGE_HEADERS)

    @app.post(DECISION_PATH, response_class=HTMLResponse, tags=["oidc"],
              operation_id="decide",
              summary="The person's decision: consent (a code goes back) or refuse "
                      "(error=access_denied)",
              responses={302: {"description": "Back to the redirect URI"},
                         200: {"content": {"text/html": {}},
                               "description": "The page again, saying what to correct"},
                         **errors},
              openapi_extra={**no_auth, **_form_doc(("transaction", "person", "decision"),
                                                    ["transaction", "decision"])})
    async def decide(request: Request) -> Response:
        try:
            form = parse_form(await request.body())
        except OAuthError as exc:
            raise Problem(400, "malformed-form", "The form cannot be read",
                          exc.description) from None
        provider: Provider = app.state.provider
        transaction = provider.transaction(form.get("transaction", ""))
        if transaction is None:
            raise Problem(400, "unknown-transaction", "No such login in progress",
                          "the login expired or was already decided; start again at the "
                          "service")
        request.scope.setdefault("state", {})["client_id"] = transaction.client.client_id
        decision = form.get("decision")
        if decision not in ("consent", "refuse"):
            raise Problem(400, "unknown-decision", "Decide consent or refuse",
                          "decision must be consent or refuse")
        if decision == "refuse":
            provider.finish(transaction.id)
            return RedirectResponse(provider.refused(transaction), 302)
        person_code = form.get("person", "")
        record = (await the_persons().find(person_code)
                  if JUMINHYO.fullmatch(person_code) else None)
        if record is None:
            listed = await the_persons().listed()
            return HTMLResponse(login_page(transaction, listed,
                                           notice="その住民票コードの方は見つかりません / "
                                                  "No resident with that code"), 200,
                                headers=PAGE_HEADERS)
        if provider.finish(transaction.id) is None:
            raise Problem(400, "unknown-transaction", "No such login in progress",
                          "this login was already decided")
        sub = provider.subject(transaction.client.client_id, person_code)
        try:
            await record_consent(targets, app.state.http_transport, settings.tls_dir,
                                 juminhyo_code=person_code,
                                 client_id=transaction.client.client_id,
                                 purpose=transaction.client.purpose,
                                 scopes=transaction.scopes, sub=sub)
        except ConsentNotRecorded as exc:
            back = RedirectError(transaction.redirect_uri, "temporarily_unavailable",
                                 f"the consent could not be recorded: {exc}", transaction.state)
            return RedirectResponse(back.location, 302)
        return RedirectResponse(provider.consented(transaction, person_code), 302)

    @app.post("/token", tags=["oidc"], operation_id="token",
              summary="Token endpoint: authorization_code with PKCE, private_key_jwt",
              response_model=TokenResponse,
              responses={400: {"model": OAuthErrorResponse,
                               "description": "RFC 6749 §5.2 error"},
                         **problem_responses(413, 415)},
              openapi_extra={**no_auth, **_form_doc(TOKEN_FIELDS, ["grant_type"])})
    async def token(request: Request) -> JSONResponse:
        try:
            form = parse_form(await request.body())
            request.scope.setdefault("state", {})["client_id"] = _caller_named(form)
            return _oauth(app.state.provider.token(form))
        except OAuthError as exc:
            return _oauth(exc.body(), exc.status)

    access = AccessTokens(provider)

    @app.get("/userinfo", response_model=UserInfo, tags=["oidc"], operation_id="userinfo",
             summary="The consented facts of the person (Bearer: the access token)",
             responses=errors)
    async def userinfo(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise invalid_token(TokenRejected("missing", "send the access token as "
                                                         "'Authorization: Bearer <token>'"))
        grant = access.live(value.strip())
        request.scope.setdefault("state", {})["client_id"] = grant.client_id
        record = await the_persons().find(grant.juminhyo_code)
        if record is None:
            raise Problem(404, "person-gone", "The person is no longer a resident here",
                          "the registry has no current record of this person")
        return validated_response(UserInfo, {"sub": grant.sub,
                                             **claims_for(record, grant.scopes)},
                                  exclude_unset=True)

    @app.post("/introspect", response_model=Introspection, tags=["oidc"],
              operation_id="introspect",
              summary="RFC 7662: is this access token live? (Bearer: admin or a client with "
                      "idp:introspect, e.g. the gateway)",
              responses={**errors, 400: {"model": OAuthErrorResponse,
                                         "description": "RFC 6749 §5.2 error (no token)"}},
              openapi_extra=_form_doc(("token",), ["token"]))
    async def introspect(request: Request) -> Response:
        caller = app.state.authenticator.authenticate(request)
        if not caller.has(INTROSPECT_ROLE):
            raise Problem(403, "forbidden", "Not allowed for this client",
                          f"introspection needs the role {INTROSPECT_ROLE}")
        try:
            form = parse_form(await request.body())
            if not form.get("token"):
                raise OAuthError("invalid_request", "token is required (RFC 7662 §2.1)")
        except OAuthError as exc:
            return _oauth(exc.body(), exc.status)
        answer = access.introspect(form.get("token", ""), caller.has(PERSON_LINK_ROLE))
        return validated_response(Introspection, answer, exclude_unset=True)

    control.install(app, provider)
    install_openapi(app, [], bearer=False)
    _with_bearer_scheme(app, ("/userinfo", "/introspect"))
    return app


def _with_bearer_scheme(app: FastAPI, paths: tuple[str, ...]) -> None:
    """Document the bearer token the ``paths`` take (the rest take none)."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        doc = made()
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        for path in paths:
            for operation in doc["paths"][path].values():
                operation["security"] = [{"bearer": []}]
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
