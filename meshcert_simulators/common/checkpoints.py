"""Signed checkpoints of a hash-chained operation log: the head anchored with a key.

A hash chain shows an edited, removed or reordered entry, but not that its newest entries were
cut off: the shortened chain is still a valid chain. A checkpoint is the log keeper's signature
over (scope, seq, head_hash, signed_at) — "entry ``seq`` of this chain had hash ``head_hash``".
Whoever holds a checkpoint (the keeper's own table, an auditor who kept an export) can tell that
a chain with no entry ``seq``, or another hash there, was cut or rewritten.

The signature is a compact JWS (ES256) whose payload is the JSON object of those four fields;
the keeper publishes the verifying key as a JWK set. Reading the checkpoint's fields back from
the verified payload (never from beside it) is what makes them trustworthy.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from meshcert_simulators.common.audit import ChainCheck
from meshcert_simulators.common.jwks import ALGORITHM, generate_key, load_signing_key, public_jwks

CHECKPOINT_TYPE = "audit-checkpoint+jws"

CHECKPOINT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    jws TEXT NOT NULL,
    PRIMARY KEY (scope, seq)
);
"""


@dataclass(frozen=True)
class Checkpoint:
    scope: str
    seq: int
    head_hash: str
    signed_at: str
    jws: str

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "seq": self.seq, "head_hash": self.head_hash,
                "signed_at": self.signed_at, "jws": self.jws}


def checkpoint_key(path: Path) -> Key:
    """The keeper's checkpoint signing key, kept in ``path`` (made on first use), so a restart
    keeps signing with the key its earlier checkpoints verify with."""
    if path.exists():
        return load_signing_key(path)
    key = generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    return key


def sign(key: Key, scope: str, seq: int, head_hash: str, signed_at: datetime | None = None
         ) -> Checkpoint:
    key.ensure_kid()
    at = (signed_at or datetime.now(UTC)).isoformat(timespec="microseconds")
    payload = json.dumps({"scope": scope, "seq": seq, "head_hash": head_hash, "signed_at": at},
                         separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    token = jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid, "typ": CHECKPOINT_TYPE},
                                  payload, key)
    return Checkpoint(scope, seq, head_hash, at, token)


def verified(token: str, keys: KeySet) -> Checkpoint:
    """The checkpoint ``token`` signs, its fields read from the verified payload; ValueError
    (saying why) when it is not a checkpoint signed by one of ``keys``."""
    try:
        payload = json.loads(jws.deserialize_compact(token, keys,
                                                     algorithms=[ALGORITHM]).payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"not a checkpoint signed by the published key: {exc}") from None
    if not isinstance(payload, dict) or not {"scope", "seq", "head_hash", "signed_at"} <= \
            payload.keys():
        raise ValueError("the checkpoint's payload lacks scope, seq, head_hash or signed_at")
    return Checkpoint(str(payload["scope"]), int(payload["seq"]), str(payload["head_hash"]),
                      str(payload["signed_at"]), token)


def keys_document(key: Key) -> dict[str, Any]:
    return public_jwks([key])


# -- the keeper's table --------------------------------------------------------------------


def store(conn: sqlite3.Connection, checkpoint: Checkpoint) -> None:
    conn.execute("INSERT OR IGNORE INTO audit_checkpoints VALUES (?,?,?,?,?)",
                 (checkpoint.scope, checkpoint.seq, checkpoint.head_hash, checkpoint.signed_at,
                  checkpoint.jws))


def stored(rows: list[sqlite3.Row]) -> list[Checkpoint]:
    return [Checkpoint(r["scope"], r["seq"], r["head_hash"], r["signed_at"], r["jws"])
            for r in rows]


def check_chain(check: ChainCheck, hashes: list[str], anchors: list[Checkpoint],
                keys: KeySet) -> ChainCheck:
    """``check`` (a chain that recomputes) held against signed ``anchors``: invalid when one
    does not verify, names an entry the chain no longer has (its newest entries were cut off)
    or another hash for that entry (the chain was rewritten from there)."""
    for anchor in sorted(anchors, key=lambda a: a.seq):
        try:
            signed = verified(anchor.jws, keys)
        except ValueError as exc:
            return replace(check, valid=False, first_bad_seq=None,
                           reason=f"checkpoint of entry {anchor.seq}: {exc}")
        if signed.seq > len(hashes):
            return replace(check, valid=False, first_bad_seq=len(hashes) + 1,
                           reason=f"the chain ends at entry {len(hashes)}, but a checkpoint "
                                  f"signed at {signed.signed_at} covers entry {signed.seq}: "
                                  "its newest entries were cut off")
        if signed.seq and hashes[signed.seq - 1] != signed.head_hash:
            return replace(check, valid=False, first_bad_seq=signed.seq,
                           reason=f"entry {signed.seq} differs from the hash its checkpoint "
                                  f"signed at {signed.signed_at}: the chain was rewritten")
    return check
