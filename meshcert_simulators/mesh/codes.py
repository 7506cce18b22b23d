"""符号 (agency-specific codes): keyed derivations only the mesh can compute or link.

person key = HMAC-SHA256(person_secret, 住民票コード)
符号       = base32(HMAC-SHA256(code_secret, institution code ␀ person key)[:20])  (32 chars)

A 符号 is a function of (institution, 住民票コード) under the mesh's secrets, so it is stable for
the pair, different per institution, and neither reversible nor linkable without the secrets.
The mesh keeps (institution, 符号) → person key to convert codes; the 住民票コード itself is
never stored.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from collections.abc import Mapping

LOCAL_CODE_SECRET = "meshcert-mesh-code-secret-local-only-0001"
LOCAL_PERSON_SECRET = "meshcert-mesh-person-secret-local-only-0001"
CODE_LENGTH = 32
CODES_REMEMBERED = 65_536


class CodeDeriver:
    def __init__(self, code_secret: bytes, person_secret: bytes) -> None:
        if code_secret == person_secret:
            raise ValueError("the code and person secrets must differ")
        self._code_secret = code_secret
        self._person_secret = person_secret
        # Every inquiry derives its provider's code: remembered, as the HMAC never changes.
        self.code = functools.lru_cache(maxsize=CODES_REMEMBERED)(self._derive_code)

    @classmethod
    def from_config(cls, extra: Mapping[str, str]) -> CodeDeriver:
        """``MESHCERT_MESH_CODE_SECRET`` / ``MESHCERT_MESH_PERSON_SECRET`` (settings.extra keys
        ``mesh_code_secret`` / ``mesh_person_secret`` win); local-only defaults otherwise."""
        code = extra.get("mesh_code_secret") or os.environ.get("MESHCERT_MESH_CODE_SECRET")
        person = extra.get("mesh_person_secret") or os.environ.get(
            "MESHCERT_MESH_PERSON_SECRET")
        return cls((code or LOCAL_CODE_SECRET).encode(), (person or LOCAL_PERSON_SECRET).encode())

    def person_key(self, juminhyo_code: str) -> str:
        return hmac.new(self._person_secret, juminhyo_code.encode("ascii"),
                        hashlib.sha256).hexdigest()

    def _derive_code(self, institution: str, person_key: str) -> str:
        """The 符号 of ``person_key`` for ``institution`` (use :attr:`code`, which remembers)."""
        mac = hmac.new(self._code_secret, f"{institution}\0{person_key}".encode("ascii"),
                       hashlib.sha256).digest()
        return base64.b32encode(mac[:20]).decode("ascii")
