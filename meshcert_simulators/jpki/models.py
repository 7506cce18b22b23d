"""Wire shapes of the JPKI-like CA simulator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from meshcert_simulators.common.wire import WireModel

JUMINHYO = r"^[0-9]{11}$"
SERIAL = r"^[0-9A-Fa-f]{1,40}$"
MAX_SIGNED_BYTES = 65_536
CertificateKind = Literal["signing", "authentication"]
Reason = Literal["affiliationChanged", "cessationOfOperation", "superseded", "keyCompromise",
                 "unspecified"]


class SignRequest(WireModel):
    """What the card is asked to sign, and with which of its two keys."""

    data: Annotated[str, Field(min_length=1, max_length=MAX_SIGNED_BYTES * 4 // 3 + 4,
                               description="The bytes to sign, base64 (RFC 4648 §4)")]
    key: CertificateKind = Field(default="signing", description=(
        "signing: the signing certificate's key (署名用, carries the four facts); "
        "authentication: the user-authentication certificate's key (利用者証明用)"))


class SignResult(WireModel):
    signature: str = Field(description="DER ECDSA signature (P-256, SHA-256), base64")
    algorithm: Literal["ecdsa-with-SHA256"]
    certificate: str = Field(description="The certificate of the key that signed (PEM)")
    serial: str
    key: CertificateKind


class CertificateOut(WireModel):
    serial: str = Field(description="Lowercase hex")
    kind: CertificateKind
    certificate: str = Field(description="PEM")
    issued_at: datetime
    not_after: datetime
    status: Literal["good", "revoked"]
    revoked_at: datetime | None
    reason: Reason | None


class StatusOut(WireModel):
    """An OCSP-like answer about one serial number, as of ``this_update``."""

    serial: str
    status: Literal["good", "revoked", "unknown"]
    revoked_at: datetime | None = None
    reason: Reason | None = None
    this_update: datetime
    next_update: datetime


class CaOut(WireModel):
    certificate: str = Field(description="The CA certificate (PEM): the trust anchor of every "
                                         "card certificate")
    crl_path: str


class FedMunicipality(WireModel):
    lg_code: str
    after_before: int
    after_now: int


class SyncResult(WireModel):
    source: str
    revoked: list[str] = Field(description="Serials revoked by this pull")
    municipalities: list[FedMunicipality]
