"""Asking the gov-private API gateway for the signed-in person's basic facts — on every request,
never from a copy, so a revoked consent shows nothing from the very next request on.

The gateway's answers map onto what the bank tells its user: facts (only the basic-fact claims
it knows; nothing else it is sent is kept), "consent revoked" (the session ends), "try again"
(a rate limit, a timeout, a failure) — never guessed or stale data. After a 429 the bank waits
the Retry-After the gateway named before it asks again, for every person (the limit is the
bank's, per client).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

FACTS_PATH = "/v1/basic-facts"
TIMEOUT_S = 2.0
DEFAULT_RETRY_AFTER_S = 1.0
# The claims of the four basic facts (and their kana): nothing else is ever kept or shown.
FACT_CLAIMS = ("name", "name_kana", "address", "address_kana", "birthdate", "gender")


@dataclass(frozen=True)
class Facts:
    values: dict[str, str]


@dataclass(frozen=True)
class Revoked:
    """No live consent (403) or a refused access token (401): the session must end."""

    status: int
    detail: str


@dataclass(frozen=True)
class TryAgain:
    """Nothing can be shown now; ``retry_after`` seconds, when the gateway said so."""

    reason: str
    retry_after: float | None = None


Outcome = Facts | Revoked | TryAgain


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def kept_facts(body: Any) -> dict[str, str]:
    """The basic-fact claims of a gateway answer (``{"facts": {...}}`` or flat)."""
    source = body.get("facts", body) if isinstance(body, dict) else {}
    if not isinstance(source, dict):
        return {}
    return {k: v for k, v in source.items() if k in FACT_CLAIMS and isinstance(v, str)}


class Gateway:
    """The bank's client of the gateway; ``blocked_until`` holds a 429's Retry-After."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url.rstrip("/")
        self.http = http
        self.blocked_until = 0.0

    async def facts(self, access_token: str) -> Outcome:
        wait = self.blocked_until - time.monotonic()
        if wait > 0:
            return TryAgain("rate-limited", wait)
        try:
            answer = await self.http.get(f"{self.url}{FACTS_PATH}", timeout=TIMEOUT_S,
                                         headers={"Authorization": f"Bearer {access_token}"})
        except httpx.TimeoutException:
            return TryAgain("gateway-timeout")
        except httpx.HTTPError:
            return TryAgain("gateway-unreachable")
        return self.outcome(answer)

    def outcome(self, answer: httpx.Response) -> Outcome:
        if answer.status_code == 429:
            seconds = retry_after_seconds(answer.headers.get("retry-after"))
            self.blocked_until = time.monotonic() + (seconds if seconds is not None
                                                     else DEFAULT_RETRY_AFTER_S)
            return TryAgain("rate-limited", seconds)
        if answer.status_code in (401, 403):
            return Revoked(answer.status_code, answer.text[:300])
        if answer.status_code != 200:
            return TryAgain(f"gateway-status-{answer.status_code}",
                            retry_after_seconds(answer.headers.get("retry-after")))
        try:
            facts = kept_facts(answer.json())
        except ValueError:
            return TryAgain("gateway-unreadable")
        return Facts(facts) if facts else TryAgain("gateway-empty")
