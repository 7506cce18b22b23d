"""A local CA and a server certificate for simulators served over HTTPS on loopback.

The harness makes them in the run folder on first use (``<run>/tls/``): an ECDSA P-256 CA and a
server certificate it signs for ``127.0.0.1`` and ``localhost``. Clients trust the CA file, never
"verify=False". Both are remade when missing, unreadable or close to expiry.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_LIFETIME = timedelta(days=730)
SERVER_LIFETIME = timedelta(days=90)
RENEW_BEFORE = timedelta(days=7)
SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1",)
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


@dataclass(frozen=True)
class LocalTls:
    """The files of a local CA and its server certificate in ``folder``."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"


def ensure_local_tls(folder: Path, now: datetime | None = None) -> LocalTls:
    """The local CA and server certificate in ``folder``, made (or remade) when needed."""
    tls = LocalTls(Path(folder))
    tls.folder.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    ca = _usable(tls.ca_cert, tls.ca_key, now)
    if ca is None:
        ca = _make_ca(tls, now)
    server = _usable(tls.cert, tls.key, now)
    if server is None or server[0].issuer != ca[0].subject:
        _make_server(tls, ca, now)
    return tls


def server_context(tls: LocalTls) -> ssl.SSLContext:
    """What a simulator serves with: TLS 1.2 at least, the local server certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    context.load_cert_chain(tls.cert, tls.key)
    return context


def client_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """What a client of a simulator verifies with: the local CA (or the system's), TLS 1.2+."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = MINIMUM_VERSION
    return context


def trust_for(tls_dir: Path | None) -> ssl.SSLContext | bool:
    """httpx ``verify=`` for a run folder: its local CA when there is one, else the system's."""
    if tls_dir is not None and LocalTls(tls_dir).ca_cert.is_file():
        return client_context(LocalTls(tls_dir).ca_cert)
    return True


# -- making them ---------------------------------------------------------------------------


Pair = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _usable(cert_path: Path, key_path: Path, now: datetime) -> Pair | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
        return None
    if cert.not_valid_after_utc - RENEW_BEFORE < now:
        return None
    return cert, key


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshcert (local only)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _make_ca(tls: LocalTls, now: datetime) -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(f"meshcert local CA {now:%Y-%m-%d %H:%M:%S}")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    _write(tls.ca_key, _key_pem(key), private=True)
    _write(tls.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _make_server(tls: LocalTls, ca: Pair, now: datetime) -> None:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    cert = (x509.CertificateBuilder()
            .subject_name(_name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False,
                                         crl_sign=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(tls.key, _key_pem(key), private=True)
    _write(tls.cert, cert.public_bytes(serialization.Encoding.PEM))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Atomically (a reader never sees half a file); private keys readable by us only."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
