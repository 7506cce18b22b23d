"""Ed25519 signing keys for certificates: made on first use, kept private, fingerprinted.

The key lives at ``--signing-key``, else ``$MESHCERT_SIGNING_KEY``, else
``~/.meshcert/signing-key.pem`` (PKCS#8 PEM, mode 0600, folder 0700). Several certifications
may start at once (the self-test runs defect variants side by side), so the first key is written
to a temporary file and linked into place: every run ends up with the same, complete key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from meshcert.errors import MeshcertError

KEY_ENV = "MESHCERT_SIGNING_KEY"
ALGORITHM = "Ed25519"


class SigningError(MeshcertError, ValueError):
    """The signing key cannot be made, read or used: the message says which file and why; fix
    its permissions or content, or point the key variable at another. Exit status 2."""


def default_key_path() -> Path:
    return Path.home() / ".meshcert" / "signing-key.pem"


def key_path(explicit: str | Path | None = None) -> Path:
    """Where the signing key is: the explicit path, $MESHCERT_SIGNING_KEY, or the default."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV]).expanduser()
    return default_key_path()


def load_or_create_key(path: str | Path | None = None) -> tuple[Ed25519PrivateKey, bool]:
    """The private key at ``path`` (see :func:`key_path`), made on first use; and whether it
    was made now."""
    path = key_path(path)
    created = False
    if not path.exists():
        created = _create(path)
    return _load(path), created


def _create(path: Path) -> bool:
    try:
        fresh = not path.parent.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.parent.chmod(0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
        try:
            os.fchmod(handle, 0o600)
            os.write(handle, pem)
            os.fsync(handle)
        finally:
            os.close(handle)
        try:
            os.link(temporary, path)  # atomic, and fails when another run made it first
            return True
        except FileExistsError:
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    except OSError as exc:
        raise SigningError(f"cannot create the signing key {path}: {exc.strerror or exc} "
                           f"(choose another place with --signing-key or ${KEY_ENV})") from None


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningError(f"the signing key {path} is readable by others (mode "
                           f"{stat.S_IMODE(mode):04o}); restrict it: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """``SHA256:<base64>`` of the raw public key, the way OpenSSH shows key fingerprints."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The signature file's content: the base64 of the 64-byte signature, and a newline."""
    return base64.b64encode(key.sign(data)) + b"\n"


def load_public_key(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{source} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{source} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def signature_valid(public: Ed25519PublicKey, data: bytes, signature_file: bytes) -> bool:
    """Whether ``signature_file`` (base64 as written by :func:`sign`, or the raw 64 bytes)
    is a valid signature of ``data``."""
    raw = signature_file
    if len(raw) != 64:
        try:
            raw = base64.b64decode(signature_file.strip(), validate=True)
        except ValueError:
            return False
    try:
        public.verify(raw, data)
    except InvalidSignature:
        return False
    return True
