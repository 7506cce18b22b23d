"""Checking a consent's signature evidence: the certificate was issued by the JPKI-like CA
(its signature verifies with the CA's key, it is within its validity, it is a signing
certificate), the card's signature over the consent text verifies with it, the CA says the
certificate is good right now, and it is the person's (its facts are the registry's facts of
the 住民票コード the consent names).

Each failure is a 422 problem with its own type, so the provider (and a test) can tell them
apart: invalid-certificate, untrusted-certificate, certificate-expired, not-a-signing-certificate,
bad-signature, certificate-revoked, certificate-unknown, certificate-not-of-person; and
signed-text-mismatch when the text signed is not the consent recorded.

**The text signed** is the provider's canonical consent text: a JSON object with (at least)
``client_id``, ``sub``, ``scopes`` (and ``purpose``, ``consented_at``); the gateway checks that
its client, subject and scopes are the ones of the consent it is asked to record, so a
signature over one consent cannot be replayed for another.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.contracts.jpki_profile import (
    SIGNATURE_ALGORITHM,
    certificate_facts,
    is_signing_certificate,
)

# The facts that bind a signing certificate to a person of the registry.
BINDING_FACTS = ("name", "birthdate", "gender", "address")


def refused(slug: str, title: str, detail: str) -> Problem:
    return Problem(422, slug, title, detail)


def jpki_unavailable(detail: str) -> Problem:
    return Problem(502, "jpki-unavailable", "The certificate authority cannot be asked", detail)


@dataclass
class Jpki:
    """The CA as the gateway reaches it over HTTP: its certificate (fetched once) and the
    status of a serial (asked every time: a revocation counts from the next request)."""

    base_url: str | None
    verify: Any = True
    transport: httpx.AsyncBaseTransport | None = None  # tests: the CA in-process
    _ca: x509.Certificate | None = field(default=None, repr=False)

    def http(self) -> httpx.AsyncClient:
        if self.base_url is None:
            raise Problem(503, "jpki-not-configured", "No certificate authority to ask",
                          "the topology has no jpki simulator")
        return httpx.AsyncClient(base_url=self.base_url, transport=self.transport,
                                 verify=self.verify, timeout=10.0)

    async def ca_certificate(self) -> x509.Certificate:
        if self._ca is None:
            async with self.http() as http:
                answer = await self._get(http, "/v1/ca")
            try:
                self._ca = x509.load_pem_x509_certificate(
                    answer.json()["certificate"].encode("ascii"))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise jpki_unavailable(f"the CA certificate is unreadable: {exc}") from None
        return self._ca

    async def status(self, serial: str) -> dict[str, Any]:
        async with self.http() as http:
            answer = await self._get(http, f"/v1/status/{serial}")
        return dict(answer.json())

    @staticmethod
    async def _get(http: httpx.AsyncClient, path: str) -> httpx.Response:
        try:
            answer = await http.get(path)
        except httpx.HTTPError as exc:
            raise jpki_unavailable(f"GET {path}: {type(exc).__name__}: {exc}") from None
        if answer.status_code != 200:
            raise jpki_unavailable(f"GET {path} answered {answer.status_code}")
        return answer


def check_signed_text(text: str, client_id: str, sub: str, scopes: list[str]) -> None:
    """The signed text names this consent's client, subject and scopes (see the module)."""
    try:
        signed = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a text nested thousands deep
        signed = None
    if not isinstance(signed, dict):
        raise refused("signed-text-mismatch", "The signed text is not a consent",
                      "signed_text must be the canonical consent text: a JSON object with "
                      "client_id, sub and scopes")
    wanted = {"client_id": client_id, "sub": sub, "scopes": sorted(set(scopes))}
    got = {"client_id": signed.get("client_id"), "sub": signed.get("sub"),
           "scopes": sorted(set(signed["scopes"])) if isinstance(signed.get("scopes"), list)
           and all(isinstance(x, str) for x in signed["scopes"]) else signed.get("scopes")}
    differing = [k for k in wanted if wanted[k] != got[k]]
    if differing:
        raise refused("signed-text-mismatch", "The signed text is another consent",
                      f"its {', '.join(differing)} differ from the consent to record")


def _certificate(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("utf-8"))
    except ValueError as exc:
        raise refused("invalid-certificate", "The certificate cannot be read",
                      f"not a PEM X.509 certificate: {exc}") from None


def _issued_by(certificate: x509.Certificate, ca: x509.Certificate, now: datetime) -> None:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise refused("untrusted-certificate", "The certificate is not from the JPKI CA",
                      "its issuer or signature is not the JPKI-like CA's") from None
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise refused("certificate-expired", "The certificate is not valid now",
                      f"valid {certificate.not_valid_before_utc.isoformat()} to "
                      f"{certificate.not_valid_after_utc.isoformat()}")
    if not is_signing_certificate(certificate):
        raise refused("not-a-signing-certificate", "Not a signing certificate",
                      "a consent is signed with the signing certificate (署名用電子証明書), "
                      "not the user-authentication one")


def _signature_verifies(certificate: x509.Certificate, text: str, signature: str) -> None:
    try:
        raw = base64.b64decode(signature, validate=True)
        public = certificate.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        public.verify(raw, text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise refused("bad-signature", "The consent signature does not verify",
                      f"signature must be base64 DER {SIGNATURE_ALGORITHM} over the UTF-8 "
                      "bytes of signed_text, by the certificate's key") from None


async def check_evidence(jpki: Jpki, pem: str, signed_text: str, signature: str,
                         now: datetime) -> tuple[x509.Certificate, dict[str, Any]]:
    """The certificate and the consent's evidence once the certificate, the signature and the
    certificate's status pass (see the module doc); :func:`check_person` comes next."""
    certificate = _certificate(pem)
    _issued_by(certificate, await jpki.ca_certificate(), now)
    _signature_verifies(certificate, signed_text, signature)
    serial = format(certificate.serial_number, "x")
    status = await jpki.status(serial)
    if status.get("status") == "revoked":
        raise refused("certificate-revoked", "The certificate is revoked",
                      f"revoked at {status.get('revoked_at')} ({status.get('reason')})")
    if status.get("status") != "good":
        raise refused("certificate-unknown", "The CA does not know the certificate",
                      f"status of serial {serial}: {status.get('status')!r}")
    return certificate, {"certificate_serial": serial,
                         "certificate_issuer": certificate.issuer.rfc4514_string(),
                         "certificate_status": "good", "algorithm": SIGNATURE_ALGORITHM,
                         "signed_text": signed_text, "signature": signature,
                         "certificate": pem, "checked_at": now.isoformat()}


def check_person(certificate: x509.Certificate, person: dict[str, Any] | None) -> None:
    """The certificate is the person's: a resident whose registry facts it carries."""
    if person is None or person.get("status") != "resident":
        raise refused("person-not-found", "No such resident",
                      "no hosted municipality has a resident with this 住民票コード")
    carried, registered = certificate_facts(certificate), basic_facts(person)
    differing = [f for f in BINDING_FACTS if carried.get(f) != registered.get(f)]
    if differing:
        raise refused("certificate-not-of-person", "The certificate is not the person's",
                      f"its {', '.join(differing)} differ from the registry's record of the "
                      "person named")
