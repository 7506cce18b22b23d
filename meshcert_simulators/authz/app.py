"""The authorization-server simulator: issues the mesh's JWT access tokens to registered clients.

Token endpoint errors are plain RFC 6749 §5.2 JSON (``{"error", "error_description"}``, status
400), as OAuth client libraries expect; every other error is problem+json like elsewhere. Its
contract is committed as fixtures/specs/authz.openapi.json (meshcert_simulators/specs.py), and every
answer is checked against its documented model before it is sent (models.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from meshcert_simulators.authz.models import (
    JwkSet,
    OAuthErrorResponse,
    ServerMetadata,
    TokenResponse,
)
from meshcert_simulators.authz.server import AuthorizationServer, OAuthError
from meshcert_simulators.common.app import FORM_MEDIA_TYPE, build_app
from meshcert_simulators.common.http import install_openapi, problem_responses
from meshcert_simulators.common.settings import Settings

TOKEN_PATH = "/oauth/token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM_FIELDS = ("grant_type", "client_assertion_type", "client_assertion", "client_id", "scope",
                "resource", "audience")


def _checked(model: type[BaseModel], content: object) -> dict[str, object]:
    """``content`` as its documented model has it (raises if it is outside the contract)."""
    return model.model_validate(content).model_dump(mode="json")


def _oauth_response(content: dict[str, object], status: int = 200) -> JSONResponse:
    model = TokenResponse if status == 200 else OAuthErrorResponse
    return JSONResponse(_checked(model, content), status, headers=NO_STORE)


def parse_form(raw: bytes) -> dict[str, str]:
    """A form body as fields; a field given twice is refused (RFC 6749 §3.2)."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", f"the body is not valid {FORM_MEDIA_TYPE}") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"{name} is given more than once")
        form[name] = value
    return form


def create_app(settings: Settings) -> FastAPI:
    server = AuthorizationServer.for_settings(settings)
    app = build_app(settings, title="meshcert authorization-server simulator",
                    description="OAuth2 client credentials with private_key_jwt; JWT access "
                                "tokens (RFC 9068) for the simulated mesh.",
                    form_paths={TOKEN_PATH})
    app.state.authorization_server = server

    @app.post(TOKEN_PATH, tags=["oauth"], operation_id="token",
              summary="Token endpoint: client credentials, private_key_jwt",
              description="A refused request is answered 400 with an RFC 6749 §5.2 error "
                          "(`error`, `error_description`), not problem+json, as OAuth client "
                          "libraries expect; a body too large (413) or not form-encoded (415) "
                          "is a problem, as everywhere.",
              response_model=TokenResponse,
              responses={400: {"model": OAuthErrorResponse,
                               "description": "RFC 6749 §5.2 error (invalid_request, "
                                              "invalid_client, unsupported_grant_type, "
                                              "invalid_scope, invalid_target)"},
                         **problem_responses(413, 415)},
              openapi_extra={"requestBody": {"required": True, "content": {FORM_MEDIA_TYPE: {
                  "schema": {"type": "object", "required": list(_FORM_FIELDS[:3]),
                             "properties": {f: {"type": "string"} for f in _FORM_FIELDS}}}}}})
    async def token(request: Request) -> JSONResponse:
        try:
            form = parse_form(await request.body())
            return _oauth_response(app.state.authorization_server.token(form))
        except OAuthError as exc:
            return _oauth_response(exc.body(), exc.status)

    @app.get("/.well-known/jwks.json", tags=["oauth"], operation_id="jwks",
             summary="The public keys access tokens are signed with", response_model=JwkSet,
             responses=problem_responses())
    async def jwks() -> JSONResponse:
        return JSONResponse(_checked(JwkSet, app.state.authorization_server.jwks()))

    @app.get("/.well-known/oauth-authorization-server", tags=["oauth"],
             operation_id="metadata", summary="Authorization server metadata (RFC 8414)",
             response_model=ServerMetadata, responses=problem_responses())
    async def metadata() -> JSONResponse:
        return JSONResponse(_checked(ServerMetadata,
                                     app.state.authorization_server.metadata()))

    # No bearer token anywhere: a client authenticates here with its signed assertion.
    install_openapi(app, [], bearer=False)
    return app
