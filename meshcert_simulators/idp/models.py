"""The provider's answers and control-plane bodies as documented in its contract
(fixtures/specs/idp.openapi.json)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from meshcert_simulators.authz.models import Jwk, JwkSet, OAuthErrorResponse
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.idp.clients import ALL_SCOPES
from meshcert_simulators.idp.misbehave import Fault

__all__ = ["ClientRegistration", "Discovery", "Jwk", "JwkSet", "Misbehave",
           "OAuthErrorResponse", "TokenResponse", "UserInfo"]

Scope = Literal["openid", "name", "address", "birthdate", "gender"]
assert set(Scope.__args__) == set(ALL_SCOPES)  # type: ignore[attr-defined]


class TokenResponse(WireModel):
    """OIDC Core §3.1.3.3 successful token answer."""

    access_token: Annotated[str, Field(description="JWT access token (RFC 9068), aud "
                                                   "includes urn:meshcert:gateway")]
    token_type: Literal["Bearer"]
    expires_in: Annotated[int, Field(ge=1)]
    scope: str
    id_token: Annotated[str, Field(description="the ID token (ES256, kid in the header)")]


class Discovery(WireModel):
    """OpenID Provider metadata (OIDC Discovery §3), the members this provider states."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    introspection_endpoint: str
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    code_challenge_methods_supported: list[str]
    scopes_supported: list[str]
    claims_supported: list[str]
    ui_locales_supported: list[str]


class UserInfo(WireModel):
    """The consented facts (OIDC Core §5.3); ``sub`` is pairwise per client."""

    sub: str
    name: str | None = None
    name_kana: str | None = None
    address: str | None = None
    address_kana: str | None = None
    birthdate: Annotated[str | None, Field(description="ISO 8601 date")] = None
    gender: str | None = None


class Introspection(WireModel):
    """RFC 7662 §2.2: whether an access token is live (not expired, not revoked)."""

    active: bool
    sub: str | None = None
    client_id: str | None = None
    scope: str | None = None
    exp: int | None = None
    # The person the token is about: only for a caller with role idp:person-link (the portal).
    juminhyo_code: str | None = None


class ClientRegistration(WireModel):
    """A relying party registered at run time (control plane)."""

    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    redirect_uris: Annotated[list[Annotated[str, Field(pattern=r"^https?://\S+$")]],
                             Field(min_length=1)]
    public_jwk: dict[str, object]
    scopes: Annotated[list[Scope], Field(min_length=1)]
    purpose: Annotated[str, Field(min_length=1, max_length=500)]


class Misbehave(WireModel):
    """Alter the next ``count`` answers of the fault's kind to ``client_id``."""

    client_id: Annotated[str, Field(min_length=1)]
    fault: Fault
    count: Annotated[int, Field(ge=1, le=1000)] = 1
