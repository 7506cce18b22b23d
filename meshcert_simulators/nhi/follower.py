"""Following the registry's difference feed (PULL): every poll reads from the stored cursor to
the feed's end, page by page, each page applied with its cursor in one transaction.

It asks the issuer for an access token (client credentials, ``private_key_jwt`` with the key
the topology names as the simulator's ``signing_key``) for the registry, with
``registry:read-mynumber`` only because this area — 国民健康保険 — needs the My Number
(番号法 別表: 国民健康保険の資格・給付). A refusal with 429 or 503 is not retried before its
Retry-After (nor before the polling interval); an unreachable registry is tried again at the
next interval. One reader at a time: a poll and a sync asked through the API never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import Key

from meshcert_simulators.authz.tokens import (
    CLIENT_ASSERTION_TYPE,
    load_public_key,
    load_signing_key,
    make_client_assertion,
)
from meshcert_simulators.childallowance.mesh_client import retry_after_seconds
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for

PAGE = 200
SCOPES = ("registry:read", "registry:read-mynumber")
DEFAULT_INTERVAL_S = 1.0
TOKEN_MARGIN_S = 30.0
BACKED_OFF = (429, 503)
MAX_WAIT_ON_ASK_S = 5.0  # a sync asked through the API waits out a back-off only this long


@dataclass(frozen=True)
class FeedSource:
    """Where the feed is and how to get in: from the topology."""

    registry_url: str
    lg_code: str
    token_url: str
    resource: str
    client_id: str
    key: Key
    interval_s: float

    @classmethod
    def for_settings(cls, settings: Settings) -> FeedSource:
        topology = settings.topology
        name = settings.extra.get("registry") or next(
            (n for n, s in topology.simulators.items() if s.kind == "municipal"), None)
        issuer = topology.issuer_url()
        key_path = settings.spec.signing_key
        if name is None or issuer is None or key_path is None:
            raise ValueError("the nhi simulator needs a municipal simulator, an issuer and its "
                             "own signing_key in the topology")
        registry = topology.simulator(name)
        key = load_signing_key(Path(key_path))  # topology paths are absolute once loaded
        thumbprint = key.thumbprint()
        client = next((c for c in topology.clients if c.public_jwk and
                       load_public_key(Path(c.public_jwk)).thumbprint() == thumbprint), None)
        if client is None:
            raise ValueError("no client of the topology has the nhi simulator's key")
        return cls(topology.url(name), settings.extra.get("lg_code", registry.municipalities[0]),
                   f"{issuer}/oauth/token", topology.audience(name), client.id, key,
                   float(settings.extra.get("poll_interval_s", DEFAULT_INTERVAL_S)))


class Follower:
    """Polls the feed in the background (:meth:`run`) and on demand (:meth:`sync`). Reads
    ``store`` and ``http_transport`` (None: the network) from the app's state at each use."""

    def __init__(self, state: Any, settings: Settings, source: FeedSource) -> None:
        self.state = state
        self.settings = settings
        self.source = source
        self.lock = asyncio.Lock()
        self.not_before = 0.0           # monotonic: no request to the registry before this
        self.last_polled_at: datetime | None = None
        self._token: tuple[str, float] | None = None

    async def run(self) -> None:
        while True:
            with contextlib.suppress(Problem):
                await self.sync()
            await asyncio.sleep(max(self.source.interval_s,
                                    self.not_before - time.monotonic()))

    async def sync(self, max_wait_s: float | None = None) -> int:
        """Read the feed from the stored cursor to its end; the number of entries applied.
        Backing off longer than ``max_wait_s`` (None: any time), it answers 503 instead."""
        async with self.lock:
            wait = self.not_before - time.monotonic()
            if max_wait_s is not None and wait > max_wait_s:
                raise Problem(503, "backing-off", "Not reading the feed yet",
                              f"the registry asked for {wait:.0f} s more",
                              headers={"Retry-After": str(int(wait) + 1)})
            if wait > 0:
                await asyncio.sleep(wait)
            self.last_polled_at = datetime.now(UTC)
            applied = 0
            async with httpx.AsyncClient(transport=self.state.http_transport, timeout=10.0,
                                         verify=trust_for(self.settings.tls_dir)) as http:
                while True:
                    page = await self.page(http)
                    applied += self.state.store.apply(self.source.lg_code, page["entries"],
                                                      int(page["next_after"]))
                    if not page["has_more"]:
                        return applied

    async def page(self, http: httpx.AsyncClient) -> dict[str, Any]:
        source = self.source
        after = self.state.store.cursor(source.lg_code)
        try:
            answer = await http.get(
                f"{source.registry_url}/municipalities/{source.lg_code}/changes",
                params={"after": after, "limit": PAGE},
                headers={"Authorization": f"Bearer {await self.token(http)}"})
        except httpx.HTTPError as exc:
            self.not_before = time.monotonic() + source.interval_s
            raise Problem(502, "registry-unavailable", "The registry cannot be read",
                          f"{type(exc).__name__}") from None
        if answer.status_code in BACKED_OFF:
            self.back_off(answer)
        if answer.status_code == 401:
            self._token = None
        if answer.status_code != 200:
            raise Problem(502, "registry-refused", "The registry refused the feed read",
                          f"HTTP {answer.status_code}")
        return dict(answer.json())

    def back_off(self, answer: httpx.Response) -> None:
        """No request before the refusal's Retry-After (and never sooner than the interval)."""
        told = retry_after_seconds(answer.headers.get("retry-after")) or 0.0
        self.not_before = time.monotonic() + max(told, self.source.interval_s)

    async def token(self, http: httpx.AsyncClient) -> str:
        if self._token is not None and self._token[1] > time.time() + TOKEN_MARGIN_S:
            return self._token[0]
        source = self.source
        answer = await http.post(source.token_url, data={
            "grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": make_client_assertion(source.key, source.client_id,
                                                      source.token_url),
            "scope": " ".join(SCOPES), "resource": source.resource})
        if answer.status_code != 200:
            raise Problem(502, "no-access-token", "The issuer gave no access token",
                          f"HTTP {answer.status_code}")
        body = answer.json()
        self._token = (str(body["access_token"]), time.time() + float(body["expires_in"]))
        return self._token[0]
