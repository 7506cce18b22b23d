"""Whether a proxy may file for their principal now: asked of the portal at every filing (a
revocation is effective on the very next request, so nothing is remembered between filings)."""

from __future__ import annotations

from dataclasses import dataclass

from meshcert_simulators.frontapp.portal import Portal, allows_moveout


@dataclass
class Delegations:
    portal: Portal

    async def refusal(self, token: str, delegation_id: str) -> str | None:
        """Why the signed-in proxy may not file under ``delegation_id`` now (None: they may)."""
        return allows_moveout(await self.portal.delegation(token, delegation_id))
