"""The simulated cards: each person's two keys and certificates, issued on first use (the
first signature with that key, or the first after a revocation), and the signatures they make.

Before it answers anything that depends on revocation (a signature, a status, the CRL, a
lookup), the CA follows the registry's feed (meshcert_simulators.jpki.feed), so a move recorded
at the registry is seen on the very next request; ``sync_interval_s`` (settings.extra, default
0) lets it skip pulls made within that many seconds of the last one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, find_person
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.contracts.jpki_profile import SIGNATURE_ALGORITHM
from meshcert_simulators.jpki import feed
from meshcert_simulators.jpki.ca import (
    CertificateAuthority,
    cert_pem,
    key_pem,
    load_key,
    new_key,
    serial_hex,
)
from meshcert_simulators.jpki.models import MAX_SIGNED_BYTES
from meshcert_simulators.jpki.store import JpkiStore

log = logging.getLogger("meshcert.jpki")


def decode_data(data: str) -> bytes:
    """The base64 bytes a card is asked to sign (422 when not base64 or too long)."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(422, "invalid-base64", "The data is not base64",
                      "send the bytes to sign as standard base64 (RFC 4648 §4)") from None
    if not raw or len(raw) > MAX_SIGNED_BYTES:
        raise Problem(422, "invalid-data-length", "Nothing to sign, or too much",
                      f"sign between 1 and {MAX_SIGNED_BYTES} bytes")
    return raw


@dataclass
class Cards:
    ca: CertificateAuthority
    store: JpkiStore
    access: RegistryAccess | Problem  # a Problem: the topology has no registry to read
    sync_interval_s: float = 0.0
    transport: httpx.AsyncBaseTransport | None = None  # tests: the registry in-process
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _synced_at: float = float("-inf")

    def registry(self) -> RegistryAccess:
        if isinstance(self.access, Problem):
            raise self.access
        return self.access

    async def sync(self, *, force: bool = False) -> dict[str, Any]:
        """Follow the registry's feed now (``force``) or when the interval has passed."""
        async with self._lock:
            return await self._sync(force)

    async def _sync(self, force: bool) -> dict[str, Any]:
        access = self.registry()
        if not force and time.monotonic() - self._synced_at < self.sync_interval_s:
            return {"source": access.source, "revoked": [], "municipalities": []}
        async with access.client(self.transport) as http:
            result = await feed.follow(self.store, access, http)
        self._synced_at = time.monotonic()
        return result

    async def sync_quietly(self) -> None:
        """Follow the feed before answering from the CA's records; a registry that cannot be
        read is logged, and the records answer as they are (a status must still be had)."""
        try:
            await self.sync()
        except Problem as problem:
            log.warning("registry feed not followed: %s", problem.detail or problem.title)

    async def sign(self, juminhyo_code: str, data: bytes, kind: str) -> dict[str, Any]:
        """Sign ``data`` with the person's ``kind`` key, issuing the certificate if none is
        live."""
        async with self._lock:
            await self._sync(force=False)
            row = self.store.live(juminhyo_code, kind)
            if row is None:
                row = await self._issue(juminhyo_code, kind)
        signature = load_key(row["private_key_pem"]).sign(data, ec.ECDSA(hashes.SHA256()))
        return {"signature": base64.b64encode(signature).decode("ascii"),
                "algorithm": SIGNATURE_ALGORITHM, "certificate": row["certificate_pem"],
                "serial": row["serial"], "key": kind}

    async def _issue(self, juminhyo_code: str, kind: str) -> Any:
        access = self.registry()
        async with access.client(self.transport) as http:
            person = await find_person(access, http, juminhyo_code)
        if person is None:
            raise Problem(404, "card-not-found", "No card for this person",
                          f"no hosted municipality has a resident with 住民票コード "
                          f"{juminhyo_code}", juminhyo_code=juminhyo_code)
        if person.get("status") != "resident":
            raise Problem(409, "card-not-usable", "The card cannot be used",
                          f"the person is {person.get('status')} at the registry: no "
                          f"{kind} certificate is issued", status_at_registry=person.get("status"))
        key = new_key()
        serial = x509.random_serial_number()
        facts = basic_facts(person) if kind == "signing" else None
        now: datetime = self.store.clock()
        certificate = self.ca.issue(key.public_key(), kind, serial, facts, now)
        self.store.add(serial_hex(serial), juminhyo_code, kind, cert_pem(certificate),
                       key_pem(key), facts, certificate.not_valid_after_utc)
        row = self.store.get(serial_hex(serial))
        assert row is not None
        return row
