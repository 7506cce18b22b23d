"""Revocation status as the CA publishes it: an OCSP-like answer per serial and the X.509 CRL,
each after following the registry's feed, so a revocation shows on the next request."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from meshcert_simulators.common import faults
from meshcert_simulators.jpki.ca import CertificateAuthority, Revocation
from meshcert_simulators.jpki.directory import canonical
from meshcert_simulators.jpki.store import JpkiStore

# How long a CRL and a status answer stay current (nextUpdate); the CA re-reads the registry
# on each request, so a relying party that fetches again sees a revocation at once.
CRL_VALIDITY = timedelta(hours=1)


class RevocationStatus:
    """Status answers and CRLs from ``state.store``, signed by ``state.ca``, having
    ``state.feed`` followed first; all read at the time of each request."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def status(self, serial: str) -> dict[str, Any]:
        """good, revoked (with reason and time) or unknown, current until ``next_update``."""
        await self.state.feed.sync_quietly()
        now = faults.now()
        store: JpkiStore = self.state.store
        row = store.get(canonical(serial))
        out: dict[str, Any] = {"serial": canonical(serial), "status": "unknown",
                               "this_update": now, "next_update": now + CRL_VALIDITY}
        if row is not None:
            out |= {"status": "revoked" if row["revoked_at"] else "good",
                    "revoked_at": row["revoked_at"], "reason": row["reason"]}
        return out

    async def crl(self) -> bytes:
        """The CRL, DER encoded, signed by the CA."""
        await self.state.feed.sync_quietly()
        store: JpkiStore = self.state.store
        revoked = [Revocation(int(r["serial"], 16), datetime.fromisoformat(r["revoked_at"]),
                              r["reason"]) for r in store.revoked()]
        now = faults.now()
        # Revocations are never undone, so their count numbers the CRLs monotonically (one
        # number per content: a CRL fetched twice without a change keeps its number).
        authority: CertificateAuthority = self.state.ca
        return authority.crl(revoked, len(revoked) + 1, now, now + CRL_VALIDITY)
