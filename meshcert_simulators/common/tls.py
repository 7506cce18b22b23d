"""A local CA and a server certificate for simulators served over HTTPS on loopback.

The harness makes them in the run folder on first use (``<run>/tls/``): an ECDSA P-256 CA and a
server certificate it signs for ``127.0.0.1`` and ``localhost``. Clients trust the CA file, never
"verify=False". Both are remade when missing, unreadable or close to expiry.

For mutual TLS the same CA issues **client certificates** (``<run>/tls/clients/<client>.pem``,
common name = the topology client id, extended key usage clientAuth); a simulator with
``mtls: true`` asks for one and passes it to the app (see :func:`peer_common_name`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import ssl
import tempfile
import threading
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
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


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


def ask_client_certificates(context: ssl.SSLContext, tls: LocalTls) -> ssl.SSLContext:
    """Make a server context ask for a client certificate from the local CA: optional at the
    TLS layer (a verified one or none), so the app answers a missing one with problem+json
    instead of a reset connection."""
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(tls.ca_cert))
    return context


def client_certificate(tls: LocalTls, client_id: str, now: datetime | None = None
                       ) -> tuple[Path, Path]:
    """(certificate, key) files of ``client_id``'s certificate from the local CA, made when
    missing or close to expiry; pass them as httpx's ``cert=``."""
    if not _CLIENT_ID.fullmatch(client_id):
        raise ValueError(f"not a client id usable in a certificate: {client_id!r}")
    now = now or datetime.now(UTC)
    ca = _usable(tls.ca_cert, tls.ca_key, now)
    if ca is None:
        raise FileNotFoundError(f"no usable local CA in {tls.folder}; run ensure_local_tls")
    folder = tls.folder / "clients"
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{client_id}.pem", folder / f"{client_id}.key"
    mine = _usable(cert_path, key_path, now)
    if mine is None or mine[0].issuer != ca[0].subject:
        _issue(cert_path, key_path, ca, now, common_name=client_id,
               usage=ExtendedKeyUsageOID.CLIENT_AUTH, names=[])
    return cert_path, key_path


def peer_common_name(der: bytes) -> str | None:
    """The common name of a (DER) certificate the TLS layer already verified."""
    names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(
        NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def client_context(ca_file: Path | None = None,
                   certificate: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    """What a client of a simulator verifies with: the local CA (or the system's), TLS 1.2+;
    with ``certificate`` (a (cert, key) pair, see :func:`client_certificate`) for mutual TLS."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = MINIMUM_VERSION
    if certificate is not None:
        context.load_cert_chain(certificate[0], certificate[1])
    return context


_SHARED: dict[tuple[object, ...], ssl.SSLContext] = {}
_SHARED_LOCK = threading.Lock()


def shared_client_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """As :func:`client_context`, made once per CA file (as it is on disk, so a remade CA
    gets a new one) and shared by every client of the process. Building a context parses a
    CA bundle: tens of milliseconds of CPU, which an HTTP client made per request (or
    ``verify=True``, httpx's default) pays each time. Callers must not change it; take
    :func:`client_context` for one to adjust."""
    key: tuple[object, ...] = ("system",)
    if ca_file is not None:
        stat = Path(ca_file).stat()
        key = (str(ca_file), stat.st_mtime_ns, stat.st_size)
    with _SHARED_LOCK:
        context = _SHARED.get(key)
        if context is None:
            context = _SHARED[key] = client_context(ca_file)
        return context


def trust_for(tls_dir: Path | None) -> ssl.SSLContext:
    """httpx ``verify=`` for a run folder: its local CA when there is one, else the system's
    (a shared context, :func:`shared_client_context`)."""
    if tls_dir is not None and LocalTls(tls_dir).ca_cert.is_file():
        return shared_client_context(LocalTls(tls_dir).ca_cert)
    return shared_client_context()


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
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    _issue(tls.cert, tls.key, ca, now, common_name="localhost",
           usage=ExtendedKeyUsageOID.SERVER_AUTH, names=names)


def _issue(cert_path: Path, key_path: Path, ca: Pair, now: datetime, *, common_name: str,
           usage: x509.ObjectIdentifier, names: list[x509.GeneralName]) -> None:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
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
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))


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
