"""The authorization server's answers as documented in its contract
(fixtures/specs/authz.openapi.json): each answer is checked against its model before it is sent,
so the server cannot answer outside the contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from meshcert_simulators.common.wire import WireModel

# RFC 6749 §5.2, plus RFC 8707 §2's invalid_target (a resource the server does not know).
OAuthErrorCode = Literal["invalid_request", "invalid_client", "invalid_grant",
                         "unauthorized_client", "unsupported_grant_type", "invalid_scope",
                         "invalid_target"]


class TokenResponse(WireModel):
    """RFC 6749 §5.1 successful answer, the token a JWT access token (RFC 9068)."""

    access_token: Annotated[str, Field(description="JWT access token (RFC 9068)")]
    token_type: Literal["Bearer"]
    expires_in: Annotated[int, Field(ge=1, description="seconds the token is valid")]
    scope: Annotated[str, Field(description="granted scopes, space-separated")]


class OAuthErrorResponse(WireModel):
    """RFC 6749 §5.2 error answer: a code clients switch on, and a description for people."""

    error: OAuthErrorCode
    error_description: str


class Jwk(BaseModel):
    """A public JSON Web Key (RFC 7517 §4); members beyond these depend on the key type."""

    model_config = ConfigDict(extra="allow", strict=True)

    kty: str
    kid: str
    use: Literal["sig"]
    alg: str


class JwkSet(WireModel):
    keys: Annotated[list[Jwk], Field(min_length=1)]


class ServerMetadata(WireModel):
    """RFC 8414 §2 authorization server metadata (the members this server states)."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
