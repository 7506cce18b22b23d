"""The provider's signing keys and their rotation.

A key goes through three states: **published** (in the JWKS, not yet signing, so relying
parties can fetch it before they meet it), **active** (the one that signs), **retired** (no
longer signing, still published until every token it signed has expired). Rotation is two
control-plane calls: publish a new key, later activate it.

The keys and the pairwise-subject secret are kept in ``<data_dir>/<name>-keys.json``, so a
restarted provider still verifies what it issued before.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import Key, KeySet, import_key

from meshcert_simulators.common.jwks import generate_key, public_jwk


class NoKeyWaiting(Exception):
    """Activation asked for with no newly published key to activate."""


@dataclass
class KeyEntry:
    key: Key
    published_at: float
    activated_at: float | None = None
    retired_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"jwk": dict(self.key.as_dict(private=True)), "published_at": self.published_at,
                "activated_at": self.activated_at, "retired_at": self.retired_at}


class KeyRing:
    """The provider's keys; ``keep_s`` is how long a retired key stays published (the longest
    lifetime of a token it signed)."""

    def __init__(self, path: Path | None, keep_s: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.keep_s = keep_s
        self.clock = clock
        self._lock = threading.Lock()
        self.entries: list[KeyEntry] = []
        self.subject_secret = b""
        if path is not None and path.exists():
            self._load(path)
        if not self.entries:
            now = clock()
            self.entries = [KeyEntry(generate_key(), now, now)]
            self.subject_secret = secrets.token_bytes(32)
            self._save()

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.subject_secret = bytes.fromhex(data["subject_secret"])
        for item in data["keys"]:
            key = import_key(item["jwk"])
            key.ensure_kid()
            self.entries.append(KeyEntry(key, item["published_at"], item["activated_at"],
                                         item["retired_at"]))

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"subject_secret": self.subject_secret.hex(),
                "keys": [e.as_dict() for e in self.entries]}
        self.path.write_text(json.dumps(data, indent=2), encoding="utf-8")

    @property
    def signing(self) -> Key:
        """The active key: the newest one activated."""
        active = [e for e in self.entries if e.activated_at is not None and e.retired_at is None]
        return active[-1].key

    def published(self) -> list[KeyEntry]:
        """The keys in the JWKS now: all but those retired longer ago than ``keep_s``."""
        now = self.clock()
        return [e for e in self.entries
                if e.retired_at is None or now < e.retired_at + self.keep_s]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(e.key) for e in self.published()]}

    def key_set(self) -> KeySet:
        """The published keys, as a verifier reads them (userinfo checks its tokens so)."""
        return KeySet([e.key for e in self.published()])

    def publish(self) -> KeyEntry:
        """Add a new key to the JWKS; it does not sign until :meth:`activate`."""
        with self._lock:
            entry = KeyEntry(generate_key(), self.clock())
            self.entries.append(entry)
            self._save()
            return entry

    def activate(self) -> KeyEntry:
        """Sign with the newest published key from now on; the key that signed until now is
        retired, and stays published ``keep_s`` seconds. Raises NoKeyWaiting when no key was
        published since the last activation (a key is never used before it is published)."""
        with self._lock:
            newest = self.entries[-1]
            if newest.activated_at is not None:
                raise NoKeyWaiting("publish a key first: POST /_meshcert/idp/keys/publish")
            now = self.clock()
            for entry in self.entries:
                if entry.activated_at is not None and entry.retired_at is None:
                    entry.retired_at = now
            newest.activated_at = now
            self._save()
            return newest

    def state(self) -> list[dict[str, Any]]:
        """Each key's kid and state, for the control plane."""
        published = {id(e) for e in self.published()}
        out = []
        for entry in self.entries:
            if entry.retired_at is not None:
                status = "retired" if id(entry) in published else "withdrawn"
            else:
                status = "active" if entry.activated_at is not None else "published"
            out.append({"kid": str(entry.key.kid), "status": status})
        return out
