"""The CA's certificate directory: the certificates it issued, looked up by serial (after
following the registry's feed, so the status shown is current), and its own certificate."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.jpki.ca import CertificateAuthority, cert_pem, serial_hex
from meshcert_simulators.jpki.store import JpkiStore

CRL_PATH = "/crl"


def canonical(serial: str) -> str:
    """A hex serial as the CA writes it (so ``0a`` and ``A`` name one certificate)."""
    return serial_hex(int(serial, 16))


class CertificateDirectory:
    """Answers lookups from ``state.store`` and ``state.ca``, having ``state.feed`` followed
    first; all three are read at the time of each lookup."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def certificate(self, serial: str) -> dict[str, Any]:
        """The certificate with ``serial`` and its status (404 when the CA issued none)."""
        await self.state.feed.sync_quietly()
        store: JpkiStore = self.state.store
        row = store.get(canonical(serial))
        if row is None:
            raise Problem(404, "certificate-not-found", "No such certificate",
                          f"this CA issued no certificate with serial {serial}")
        return store.describe(row)

    def ca(self) -> dict[str, Any]:
        """The CA certificate (the trust anchor) and where its CRL is."""
        authority: CertificateAuthority = self.state.ca
        return {"certificate": cert_pem(authority.certificate), "crl_path": CRL_PATH}
