"""Calling the portal's peers (registries, mesh, gateway, account registry, idp) over HTTP, and
passing a peer's problem on to the person as it was said.

Tests serve the peers in-process: ``Peers.mounts`` maps a base URL to an httpx transport.
"""

from __future__ import annotations

from typing import Any

import httpx

from meshcert_simulators.common.problems import PROBLEM_TYPE_BASE, Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for

TIMEOUT_S = 10.0
_STANDARD = {"type", "title", "status", "detail", "instance", "request_id"}


class Peers:
    def __init__(self, settings: Settings) -> None:
        self.verify = trust_for(settings.tls_dir)
        self.mounts: dict[str, httpx.AsyncBaseTransport] = {}

    def client(self, base_url: str, token: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        mounts = {url: transport for url, transport in self.mounts.items()}
        return httpx.AsyncClient(base_url=base_url, headers=headers, verify=self.verify,
                                 timeout=TIMEOUT_S, mounts=mounts)

    async def call(self, peer: str, base_url: str, token: str | None, method: str, path: str,
                   **kwargs: Any) -> httpx.Response:
        """One request; a peer that cannot be reached is a 502 problem naming it."""
        try:
            async with self.client(base_url, token) as http:
                return await http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise unavailable(peer, f"{method} {path}: {type(exc).__name__}: {exc}") from None


def unavailable(peer: str, detail: str) -> Problem:
    return Problem(502, f"{peer}-unavailable", f"The {peer} cannot be reached", detail)


def relayed(peer: str, answer: httpx.Response) -> Problem:
    """The peer's refusal of the request (a 4xx problem other than 401/403) as the portal's own
    answer, its type and members kept; anything else — a 5xx, a body that is no problem, or
    the peer refusing the portal's own credential (a configuration fault, not the person's) —
    is a 502 naming the peer."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if 400 <= answer.status_code < 500 and answer.status_code not in (401, 403) \
            and isinstance(body, dict) \
            and isinstance(body.get("type"), str) and isinstance(body.get("title"), str):
        slug = body["type"].removeprefix(PROBLEM_TYPE_BASE)
        extensions = {k: v for k, v in body.items() if k not in _STANDARD}
        return Problem(answer.status_code, slug, body["title"], body.get("detail"),
                       **{**extensions, "source": peer})
    return unavailable(peer, f"{answer.request.method} {answer.request.url.path} answered "
                             f"{answer.status_code}")
