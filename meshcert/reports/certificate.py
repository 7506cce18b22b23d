"""certificate.json: what a certification run found, signed, with the hash of every file beside it.

A report folder holds ``certificate.json``, ``certificate.json.sig`` (Ed25519 over the exact
bytes of certificate.json, base64), ``signing-key.pub.pem``, and the files the certificate lists
under ``files`` with their SHA-256: junit.xml, evidence/, allure-results/, index.html, logs.
:func:`verify_report` checks the signature and every hash, and names each file that was altered,
is missing, or was added.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshcert.reports import signing

FORMAT = "meshcert-certificate/1"
CERTIFICATE = "certificate.json"
SIGNATURE = "certificate.json.sig"
PUBLIC_KEY = "signing-key.pub.pem"
UNLISTED = frozenset({CERTIFICATE, SIGNATURE, PUBLIC_KEY})


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def report_files(report_dir: Path) -> list[str]:
    """Every file of a report folder the certificate must list (POSIX paths, sorted)."""
    return sorted(p.relative_to(report_dir).as_posix() for p in report_dir.rglob("*")
                  if p.is_file() and p.relative_to(report_dir).as_posix() not in UNLISTED)


def hash_files(report_dir: Path) -> dict[str, str]:
    return {name: sha256_file(report_dir / name) for name in report_files(report_dir)}


def encode(certificate: dict[str, Any]) -> bytes:
    return (json.dumps(certificate, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_signed(report_dir: Path, certificate: dict[str, Any], key: Ed25519PrivateKey
                 ) -> bytes:
    """Add the hashes of every file in the folder, write certificate.json, its signature and
    the public key; returns the exact bytes signed."""
    certificate["files"] = hash_files(report_dir)
    data = encode(certificate)
    (report_dir / CERTIFICATE).write_bytes(data)
    (report_dir / SIGNATURE).write_bytes(signing.sign(key, data))
    (report_dir / PUBLIC_KEY).write_bytes(signing.public_pem(key))
    return data


class UnreadableReport(ValueError):
    """The folder is not a report that can be checked at all (exit status 2)."""


@dataclass
class Verification:
    signature_valid: bool
    key_fingerprint: str
    key_source: str                      # the report's own key, or the one given
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def valid(self) -> bool:
        return self.signature_valid and not (self.altered or self.missing or self.added)


def verify_report(report_dir: Path, public_key: Path | None = None) -> Verification:
    """Check a report folder: the signature over certificate.json (with ``public_key``, else
    the key in the folder) and the hash of every file it lists."""
    report_dir = Path(report_dir)
    if not report_dir.is_dir():
        raise UnreadableReport(f"{report_dir}: no such folder")
    try:
        data = (report_dir / CERTIFICATE).read_bytes()
    except FileNotFoundError:
        raise UnreadableReport(f"{report_dir}: no {CERTIFICATE} (not a meshcert report?)") \
            from None
    except OSError as exc:
        raise UnreadableReport(f"{report_dir / CERTIFICATE}: cannot read: {exc}") from None
    try:
        certificate = json.loads(data)
        listed = certificate["files"]
        if not isinstance(listed, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise UnreadableReport(f"{report_dir / CERTIFICATE}: not a meshcert certificate "
                               "(no JSON object with 'files')") from None
    key_file = public_key or report_dir / PUBLIC_KEY
    try:
        key = signing.load_public_key(Path(key_file).read_bytes(), str(key_file))
    except OSError as exc:
        raise UnreadableReport(f"{key_file}: cannot read the public key: "
                               f"{exc.strerror or exc}") from None
    except signing.SigningError as exc:
        raise UnreadableReport(str(exc)) from None
    try:
        signature = (report_dir / SIGNATURE).read_bytes()
    except OSError:
        signature = b""
    result = Verification(
        signature_valid=bool(signature) and signing.signature_valid(key, data, signature),
        key_fingerprint=signing.fingerprint(key),
        key_source=("the key given" if public_key else f"the report's own {PUBLIC_KEY}"))
    present = set(report_files(report_dir))
    for name, expected in sorted(listed.items()):
        if name not in present:
            result.missing.append(name)
        elif sha256_file(report_dir / name) != expected:
            result.altered.append(name)
        result.checked += 1
    result.added = sorted(present - set(listed))
    if not signature:
        result.missing.insert(0, SIGNATURE)
    return result
