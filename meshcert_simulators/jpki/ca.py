"""The CA of the JPKI-like simulator: its key and self-signed certificate (made on first start
under the run's data folder and kept across restarts), the certificates it issues to cards, and
its CRL. EC P-256 throughout: keys are made in microseconds, so cards are issued lazily.

Local simulation only (like fixtures/keys): nothing here is a real trust anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meshcert_simulators.contracts.jpki_profile import fact_names

CA_NAME = "meshcert JPKI test CA (local simulation only)"
CA_YEARS = 10
CERT_YEARS = 5
KEY_FILE = "ca-key.pem"
CERT_FILE = "ca-cert.pem"
# RFC 5280 reason names (as cryptography spells them) the simulator revokes with.
REASONS = {"affiliationChanged": x509.ReasonFlags.affiliation_changed,
           "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
           "superseded": x509.ReasonFlags.superseded,
           "keyCompromise": x509.ReasonFlags.key_compromise,
           "unspecified": x509.ReasonFlags.unspecified}


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("a card key must be an EC key")
    return key


def cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def serial_hex(serial: int) -> str:
    """The canonical spelling of a serial number on the wire: lowercase hex, no leading 0s."""
    return format(serial, "x")


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime
    reason: str


class CertificateAuthority:
    """The CA key and certificate; issues card certificates and signs CRLs."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self.key = key
        self.certificate = certificate

    @classmethod
    def load_or_create(cls, folder: Path, now: datetime) -> CertificateAuthority:
        """The CA kept in ``folder``; made (and written) there the first time."""
        key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
        if key_path.exists() and cert_path.exists():
            key = load_key(key_path.read_text(encoding="ascii"))
            return cls(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))
        folder.mkdir(parents=True, exist_ok=True)
        key = new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshcert"),
                          x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
        key_path.write_text(key_pem(key), encoding="ascii")
        key_path.chmod(0o600)
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate)

    def issue(self, public: ec.EllipticCurvePublicKey, kind: str, serial: int,
              facts: dict[str, str] | None, now: datetime) -> x509.Certificate:
        """A card certificate: ``kind`` "signing" (with ``facts`` in subjectAltName) or
        "authentication" (no facts); see meshcert_simulators.contracts.jpki_profile."""
        signing = kind == "signing"
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshcert JPKI simulation"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{kind} {serial_hex(serial)}")])
        builder = (
            x509.CertificateBuilder().subject_name(subject)
            .issuer_name(self.certificate.subject).public_key(public).serial_number(serial)
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(not signing, signing, False, False, False, False,
                                         False, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False))
        if signing:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(fact_names(facts or {})), critical=False)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def crl(self, revoked: list[Revocation], number: int, now: datetime,
            next_update: datetime) -> bytes:
        """The CRL (DER) listing ``revoked``, numbered ``number``."""
        builder = (
            x509.CertificateRevocationListBuilder().issuer_name(self.certificate.subject)
            .last_update(now).next_update(next_update)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False))
        for entry in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(entry.serial)
                .revocation_date(entry.revoked_at)
                .add_extension(x509.CRLReason(REASONS[entry.reason]), critical=False)
                .build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
