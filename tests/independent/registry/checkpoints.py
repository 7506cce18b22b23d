"""Signed checkpoints of the operation log's head (compact JWS, ES256), so a chain whose
newest entries were cut off shows: the chain must still hold every checkpoint signed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from tests.independent.registry.store import Store
from tests.independent.registry.web import Problem

TYPE = "audit-checkpoint+jws"


class Checkpoints:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.key = ECKey.import_key(json.loads(store.setting(
            "checkpoint-key", lambda: json.dumps(ECKey.generate_key("P-256").as_dict(
                private=True)))))
        self.key.ensure_kid()

    def keys(self) -> dict[str, Any]:
        return {"keys": [{**self.key.as_dict(private=False), "alg": "ES256", "use": "sig"}]}

    def sign(self, lg: str) -> dict[str, Any]:
        """A checkpoint of the chain's head now (remembered, so verification holds it)."""
        seq, head_hash = self.store.head(lg)
        payload = {"scope": lg, "seq": seq, "head_hash": head_hash,
                   "signed_at": datetime.now(UTC).isoformat()}
        token = jws.serialize_compact({"alg": "ES256", "typ": TYPE, "kid": self.key.kid},
                                      json.dumps(payload, ensure_ascii=False), self.key)
        with self.store.transaction():
            self.store.signed(lg, seq, head_hash)
        return {**payload, "jws": token}

    def read(self, token: str, lg: str) -> tuple[int, str]:
        """(seq, head_hash) of a checkpoint this registry signed for ``lg``; else 422."""
        try:
            payload = json.loads(jws.deserialize_compact(token, self.key, ["ES256"]).payload)
            if payload["scope"] != lg:
                raise ValueError(f"a checkpoint of {payload['scope']}")
            return int(payload["seq"]), str(payload["head_hash"])
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Problem(422, "invalid-checkpoint", "Not a checkpoint this registry signed "
                          "for this municipality", str(exc)[:200]) from None
