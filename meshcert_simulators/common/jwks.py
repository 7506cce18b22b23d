"""Key files for JOSE: signing keys (private JWKs) and the public keys that verify them.

Everything meshcert signs is ES256 (ECDSA P-256 with SHA-256): compact, fast, and supported by
the JOSE libraries vendors use. Verifiers accept only asymmetric algorithms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, import_key

ALGORITHM = "ES256"
CURVE = "P-256"
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1: the typ header of a JWT access token
# What a verifier may accept: signatures by a private key only. Never "none", never HS*
# (an HMAC "verified" with a public key is forgeable by anyone who has that public key).
ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "EdDSA", "Ed25519",
                                   "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})


class KeyFileError(ValueError):
    """A key file is missing or not the key it should be; the message names the file."""


# -- keys ----------------------------------------------------------------------------------


def generate_key() -> ECKey:
    """A new P-256 signing key; its ``kid`` is its RFC 7638 thumbprint."""
    return ECKey.generate_key(CURVE, parameters={"alg": ALGORITHM, "use": "sig"},
                              auto_kid=True)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KeyFileError(f"{path}: not a readable JSON key file: {exc}") from None
    if not isinstance(data, dict):
        raise KeyFileError(f"{path}: expected a JSON object (a JWK or a JWK set)")
    return data


def _import(data: dict[str, Any], path: Path) -> Key:
    try:
        key = import_key(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise KeyFileError(f"{path}: not a valid JWK: {exc}") from None
    key.ensure_kid()
    return key


def load_signing_key(path: Path) -> Key:
    """A private JWK (the authz simulator's, or a client's) from a file."""
    key = _import(_read_json(path), path)
    if not key.is_private:
        raise KeyFileError(f"{path}: holds a public key; signing needs the private one")
    return key


def load_public_key(path: Path) -> Key:
    """A client's registered public JWK; private material in it is refused (it is shared)."""
    key = _import(_read_json(path), path)
    if key.is_private:
        raise KeyFileError(f"{path}: holds a private key; register only the public part")
    return key


def load_key_set(path: Path) -> KeySet:
    """An issuer's public keys: a JWK set file (``{"keys": [...]}``) or a single JWK."""
    data = _read_json(path)
    keys = data["keys"] if isinstance(data.get("keys"), list) else [data]
    out = [_import(k, path) for k in keys if isinstance(k, dict)]
    if not out or any(k.is_private for k in out):
        raise KeyFileError(f"{path}: expected public keys only")
    return KeySet(out)


def public_jwk(key: Key) -> dict[str, Any]:
    key.ensure_kid()
    return dict(key.as_dict(private=False))


def public_jwks(keys: Iterable[Key]) -> dict[str, Any]:
    return {"keys": [public_jwk(k) for k in keys]}
