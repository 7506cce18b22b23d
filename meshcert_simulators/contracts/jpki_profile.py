"""The certificate profile of the JPKI-like test CA (meshcert_simulators/jpki/): what its
relying parties (the gateway, a verifier) read from a certificate it issued.

**The facts.** A signing certificate (署名用電子証明書) carries the person's four basic facts
(meshcert_simulators.contracts.basic_facts) in ``subjectAltName`` as ``otherName`` entries, one
per fact, each an ASN.1 UTF8String under the OIDs below — as the real JPKI signing certificate
carries them in subjectAltName. The OIDs are under ``2.25`` (UUID-based, ITU-T X.667: no
registration needed, no clash with a real arc); they belong to this simulation only. A
user-authentication certificate (利用者証明用電子証明書) has no subjectAltName and no fact; both
have a subject without personal data (``CN`` names the kind and the serial).

**Kinds** are told apart by ``keyUsage``: signing has ``contentCommitment`` (non-repudiation)
only; user authentication has ``digitalSignature`` only (and ``extendedKeyUsage`` clientAuth).

**Signatures** made with a card's key are ECDSA P-256 with SHA-256 over the bytes given, DER
encoded (``ecdsa-with-SHA256``), sent base64.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

_ARC = "2.25.304452431320055705370706412433607715918"
FACT_OIDS: dict[str, ObjectIdentifier] = {
    "name": ObjectIdentifier(f"{_ARC}.1"),
    "name_kana": ObjectIdentifier(f"{_ARC}.2"),
    "address": ObjectIdentifier(f"{_ARC}.3"),
    "birthdate": ObjectIdentifier(f"{_ARC}.4"),
    "gender": ObjectIdentifier(f"{_ARC}.5"),
}
SIGNATURE_ALGORITHM = "ecdsa-with-SHA256"
_UTF8STRING = 0x0C


def der_utf8(text: str) -> bytes:
    """``text`` as a DER UTF8String (tag, definite length, bytes)."""
    raw = text.encode("utf-8")
    if len(raw) < 0x80:
        return bytes([_UTF8STRING, len(raw)]) + raw
    length = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return bytes([_UTF8STRING, 0x80 | len(length)]) + length + raw


def read_der_utf8(der: bytes) -> str | None:
    """The text of a DER UTF8String, or None when ``der`` is not one."""
    if len(der) < 2 or der[0] != _UTF8STRING:
        return None
    first = der[1]
    if first < 0x80:
        start, length = 2, first
    else:
        count = first & 0x7F
        start, length = 2 + count, int.from_bytes(der[2:2 + count], "big")
    body = der[start:start + length]
    if len(body) != length or start + length != len(der):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def fact_names(facts: dict[str, str]) -> list[x509.GeneralName]:
    """The subjectAltName entries of a signing certificate carrying ``facts``."""
    return [x509.OtherName(oid, der_utf8(facts[name])) for name, oid in FACT_OIDS.items()
            if name in facts]


def certificate_facts(certificate: x509.Certificate) -> dict[str, str]:
    """The facts a certificate carries (empty for a user-authentication certificate)."""
    try:
        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {}
    by_oid = {oid: name for name, oid in FACT_OIDS.items()}
    facts: dict[str, str] = {}
    for other in names.get_values_for_type(x509.OtherName):
        name = by_oid.get(other.type_id)
        text = read_der_utf8(other.value) if name else None
        if name and text is not None:
            facts[name] = text
    return facts


def is_signing_certificate(certificate: x509.Certificate) -> bool:
    """Whether the key usage is that of a signing certificate (non-repudiation only)."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return usage.content_commitment and not usage.digital_signature
