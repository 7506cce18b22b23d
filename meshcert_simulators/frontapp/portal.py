"""The app's view of the portal: filing a move-out (resent with the same idempotency key when the
portal does not answer in time), reading its live status, and reading a delegation before acting
for a proxy. Every call carries the person's own access token; nothing is cached, so what the app
shows is what the portal says now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

MOVEOUTS = "/v1/moveouts"
PROXIES = "/v1/me/proxies"
RESEND_AFTER_S = 3.0        # no answer in this time: resend (the same key)
ATTEMPTS = 3
PROCEDURE = "moveout"


class PortalUnavailable(Exception):
    """The portal gave no usable answer (after the resends): nothing can be shown for sure."""


@dataclass(frozen=True)
class Answer:
    """The portal's answer as the app passes it on: status and JSON body (problem or not)."""

    status: int
    body: Any


@dataclass
class Portal:
    url: str
    http: httpx.AsyncClient
    resend_after_s: float = RESEND_AFTER_S
    attempts: int = ATTEMPTS

    def _headers(self, token: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    async def file_moveout(self, token: str, body: dict[str, Any]) -> Answer:
        """POST the filing; on a timeout or a dropped connection resend it with the same key
        (the portal answers a repeated key with the same application, never a second one)."""
        last: Exception | None = None
        for _ in range(self.attempts):
            try:
                return await self.post_once(token, body)
            except PortalUnavailable as exc:
                last = exc
        raise PortalUnavailable(f"the portal did not take the move-out ({last})")

    async def post_once(self, token: str, body: dict[str, Any]) -> Answer:
        """One attempt; :class:`PortalUnavailable` on a timeout, a dropped connection or a
        5xx (worth a resend)."""
        try:
            answer = await self.http.post(
                f"{self.url}{MOVEOUTS}", json=body, timeout=self.resend_after_s,
                headers=self._headers(token, str(body["idempotency_key"])))
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise PortalUnavailable(f"{type(exc).__name__}: {exc}") from None
        if answer.status_code >= 500:
            raise PortalUnavailable(f"the portal answered {answer.status_code}")
        return Answer(answer.status_code, _json(answer))

    async def moveout(self, token: str, moveout_id: str) -> Answer:
        """The application as the portal shows it now."""
        try:
            answer = await self.http.get(f"{self.url}{MOVEOUTS}/{moveout_id}",
                                         headers=self._headers(token))
        except httpx.HTTPError as exc:
            raise PortalUnavailable(f"the portal did not answer ({exc})") from None
        if answer.status_code >= 500:
            raise PortalUnavailable(f"the portal answered {answer.status_code}")
        return Answer(answer.status_code, _json(answer))

    async def delegation(self, token: str, delegation_id: str) -> dict[str, Any] | None:
        """The delegation ``delegation_id`` as the portal lists it for the caller now, or None
        when the portal lists no such delegation for them."""
        try:
            answer = await self.http.get(f"{self.url}{PROXIES}", headers=self._headers(token))
        except httpx.HTTPError as exc:
            raise PortalUnavailable(f"the portal did not answer ({exc})") from None
        if answer.status_code >= 500:
            raise PortalUnavailable(f"the portal answered {answer.status_code}")
        if answer.status_code != 200:
            return None
        body = _json(answer)
        items = body.get("delegations") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return None
        return next((d for d in items if isinstance(d, dict) and d.get("id") == delegation_id),
                    None)


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return {"detail": answer.text[:500]}


def allows_moveout(delegation: dict[str, Any] | None, now: datetime | None = None) -> str | None:
    """Why ``delegation`` does not let its proxy file a move-out now (None: it does)."""
    if delegation is None:
        return "no such delegation for this proxy (revoked, or never given)"
    if delegation.get("direction") != "received":
        return "the delegation was not given to the signed-in person"
    if delegation.get("revoked_at"):
        return "the principal revoked the delegation"
    if PROCEDURE not in (delegation.get("procedures") or []):
        return f"the delegation covers {delegation.get('procedures')}, not the move-out"
    until = delegation.get("until")
    try:
        end = datetime.fromisoformat(str(until).replace("Z", "+00:00"))
    except ValueError:
        return f"the delegation's end {until!r} is unreadable"
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    if (now or datetime.now(UTC)) >= end or delegation.get("active") is False:
        return f"the delegation ended at {until}"
    return None
