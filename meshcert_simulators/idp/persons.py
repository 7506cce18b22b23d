"""The persons who can log in: the synthetic population of the topology's resident registry,
read over HTTP at each login (as the J-LIS sync reads it), so a move recorded at the registry
changes the 住所 the next login returns.

A person is named by their 住民票コード. Only the four basic facts and their kana leave this
module as claims; the My Number and the 住民票コード never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.contracts.basic_facts import basic_facts, facts_for_scopes

LISTED = 50  # persons offered on the login page


@dataclass(frozen=True)
class RegistrySource:
    """Where the persons are read: the registry's base URL, its municipalities and the bearer
    token the provider reads with (a topology client with ``registry:read``)."""

    url: str
    municipalities: tuple[str, ...]
    token: str | None


def _unavailable(detail: str) -> Problem:
    return Problem(502, "registry-unavailable", "The resident registry cannot be read", detail)


class Persons:
    """Reads persons from the registry; ``transport`` (None: the network) lets tests serve the
    registry in-process."""

    def __init__(self, source: RegistrySource | None, tls_dir: Any = None) -> None:
        self.source = source
        self.tls_dir = tls_dir
        self.transport: httpx.AsyncBaseTransport | None = None

    def _client(self) -> httpx.AsyncClient:
        assert self.source is not None
        headers = {"Authorization": f"Bearer {self.source.token}"} if self.source.token else {}
        return httpx.AsyncClient(base_url=self.source.url, transport=self.transport,
                                 verify=trust_for(self.tls_dir), timeout=10.0, headers=headers)

    async def find(self, juminhyo_code: str) -> dict[str, Any] | None:
        """The current resident record of the person, or None if no hosted municipality has
        one; raises a 502 problem when the registry cannot be read."""
        if self.source is None:
            raise _unavailable("the topology has no resident registry (a municipal simulator)")
        async with self._client() as http:
            for lg_code in self.source.municipalities:
                try:
                    answer = await http.get(f"/municipalities/{lg_code}/residents",
                                            params={"juminhyo_code": juminhyo_code})
                except httpx.HTTPError as exc:
                    raise _unavailable(f"{type(exc).__name__}: {exc}") from None
                if answer.status_code == 200:
                    record: dict[str, Any] = answer.json()
                    return record if record.get("status") == "resident" else None
                if answer.status_code not in (400, 404, 422):
                    raise _unavailable(f"finding a resident in {lg_code} answered "
                                       f"{answer.status_code}")
        return None

    async def listed(self) -> list[dict[str, Any]]:
        """Up to :data:`LISTED` current residents for the login page's picker (from the
        registry's difference feed); empty when the registry cannot be read."""
        if self.source is None:
            return []
        latest: dict[str, dict[str, Any]] = {}
        try:
            async with self._client() as http:
                for lg_code in self.source.municipalities:
                    answer = await http.get(f"/municipalities/{lg_code}/changes",
                                            params={"after": 0, "limit": 1000})
                    if answer.status_code != 200:
                        continue
                    for entry in answer.json()["entries"]:
                        record = entry["record"]
                        latest[record["juminhyo_code"]] = record
        except (httpx.HTTPError, KeyError, ValueError):
            return []
        current = [r for r in latest.values() if r.get("status") == "resident"]
        return current[:LISTED]


def display_name(record: dict[str, Any]) -> str:
    return basic_facts(record)["name"]


def claims_for(record: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
    """The facts of ``record`` the consented ``scopes`` release (OIDC claim names), derived
    as every national service derives them (meshcert_simulators.contracts.basic_facts)."""
    return facts_for_scopes(basic_facts(record), set(scopes))
