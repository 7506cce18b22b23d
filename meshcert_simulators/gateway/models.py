"""Wire shapes of the gov-private API gateway simulator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from meshcert_simulators.common.http import whole_number
from meshcert_simulators.common.wire import WireModel

CLIENT_ID = r"^[A-Za-z0-9._:-]{1,128}$"
JUMINHYO = r"^[0-9]{11}$"
SUB = r"^[A-Za-z0-9._-]{1,128}$"
CONSENT_ID = r"^cns-[0-9a-f]{32}$"
Scope = Literal["openid", "name", "address", "birthdate", "gender"]
Scopes = Annotated[list[Scope], Field(min_length=1, max_length=5)]


class ConsentRequest(WireModel):
    """A consent the provider (idp) records once the person has consented and the card has
    signed ``signed_text`` (its UTF-8 bytes) with the signing certificate's key."""

    sub: Annotated[str, Field(pattern=SUB, description="The pairwise subject for client_id")]
    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO)]
    client_id: Annotated[str, Field(pattern=CLIENT_ID)]
    scopes: Scopes
    signed_text: Annotated[str, Field(min_length=1, max_length=8192)]
    signature: Annotated[str, Field(min_length=1, max_length=1024,
                                    description="DER ECDSA-SHA256 signature, base64")]
    certificate: Annotated[str, Field(min_length=1, max_length=16384,
                                      description="The signing certificate (PEM)")]


class Evidence(WireModel):
    """What the consent's signature was checked against, and when."""

    certificate_serial: str
    certificate_issuer: str
    certificate_status: Literal["good"]
    algorithm: Literal["ecdsa-with-SHA256"]
    signed_text: str
    signature: str
    certificate: str
    checked_at: datetime


class ConsentOut(WireModel):
    id: str
    sub: str
    client_id: str
    purpose: str
    scopes: list[str]
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    evidence: Evidence


class BasicFacts(WireModel):
    """The facts of the consented scopes only (claims of basic_facts; never a My Number)."""

    name: str | None = None
    name_kana: str | None = None
    address: str | None = None
    address_kana: str | None = None
    birthdate: str | None = None
    gender: str | None = None


class FactsOut(WireModel):
    sub: str
    consent_id: str
    scopes: list[str] = Field(description="The fact scopes provided: the consent's scopes "
                                          "that the access token also carries")
    facts: BasicFacts
    provided_at: datetime


class ProvisionRecord(WireModel):
    """One provision of facts to a client, kept for the person (7 years)."""

    seq: int
    record_id: str
    consent_id: str
    client_id: str
    sub: str
    purpose: str
    scopes: list[str]
    claims: list[str]
    requested_at: datetime
    provided_at: datetime


class ProvisionRecordPage(WireModel):
    records: list[ProvisionRecord]
    next_after: int
    has_more: bool


class ClientRegistration(WireModel):
    """A private service (relying party) the gateway provides to (harness control plane)."""

    client_id: Annotated[str, Field(pattern=CLIENT_ID)]
    purpose: Annotated[str, Field(min_length=1, max_length=500)]
    scopes: Scopes
    rate_limit_per_s: whole_number(1, 10_000) = 10  # type: ignore[valid-type]


class ClientOut(WireModel):
    client_id: str
    purpose: str
    scopes: list[str]
    rate_limit_per_s: int


class HarnessRevocation(WireModel):
    client_id: Annotated[str, Field(pattern=CLIENT_ID)]
    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO)]


class RevokedConsents(WireModel):
    revoked: list[str]
