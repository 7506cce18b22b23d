"""The inquirer's calls to the mesh, one attempt each: its 符号 for a person, and an inquiry.

It authenticates as its institution's client with a JWT access token from the topology's
issuer, got with ``private_key_jwt`` (a client assertion signed with its own key) and kept
until shortly before it expires. Every failure comes out as :class:`Transient` (worth retrying)
or :class:`Refused` (not).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from joserfc.jwk import Key

from meshcert_simulators.authz.tokens import CLIENT_ASSERTION_TYPE, make_client_assertion
from meshcert_simulators.childallowance.retry import Refused, Transient

TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})
TOKEN_MARGIN_S = 30  # renew this long before the token expires
# The mesh answers 409 duplicate-record-id while an earlier attempt of the same record id is
# still being processed; once it is done, the same request gets its answer (a replay).
IN_PROGRESS = "urn:meshcert:problem:duplicate-record-id"


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


@dataclass
class MeshClient:
    mesh_url: str
    token_endpoint: str
    client_id: str
    key: Key
    audience: str                      # the mesh's resource identifier
    timeout_s: float = 1.0
    transport: httpx.AsyncBaseTransport | None = None  # tests: an in-process app
    _token: tuple[str, float] | None = None
    _client: tuple[Any, httpx.AsyncClient] | None = None

    def http(self) -> httpx.AsyncClient:
        """One client (connection pool) per event loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop:
            self._client = (loop, httpx.AsyncClient(transport=self.transport,
                                                    timeout=self.timeout_s))
        return self._client[1]

    async def aclose(self) -> None:
        if self._client is not None and self._client[0] is asyncio.get_running_loop():
            await self._client[1].aclose()
        self._client = None

    async def token(self) -> str:
        if self._token is not None and self._token[1] > time.time() + TOKEN_MARGIN_S:
            return self._token[0]
        assertion = make_client_assertion(self.key, self.client_id, self.token_endpoint)
        answer = await self._send("POST", self.token_endpoint, data={
            "grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion, "resource": self.audience})
        if answer.status_code != 200:
            raise Refused(answer.status_code, {"title": "no access token from the issuer",
                                               "detail": answer.text[:300]})
        body = self._json(answer)
        self._token = (body["access_token"], time.time() + float(body.get("expires_in", 60)))
        return self._token[0]

    async def issue_code(self, juminhyo_code: str) -> str:
        body = await self._call("/v1/codes", {"juminhyo_code": juminhyo_code})
        return str(body["code"])

    async def inquire(self, inquiry: dict[str, Any]) -> dict[str, Any]:
        return await self._call("/v1/inquiries", inquiry)

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.token()
        answer = await self._send("POST", self.mesh_url + path, json=body,
                                  headers={"Authorization": f"Bearer {token}"})
        if answer.status_code in (200, 201):
            return self._json(answer)
        if answer.status_code == 401:
            self._token = None  # expired or revoked: the next attempt gets a new one
            raise Transient("HTTP 401 (access token refused; renewing it)")
        if answer.status_code in TRANSIENT_STATUSES:
            raise Transient(f"HTTP {answer.status_code}",
                            retry_after_seconds(answer.headers.get("retry-after")))
        problem = self._problem(answer)
        if answer.status_code == 409 and problem.get("type") == IN_PROGRESS:
            raise Transient("HTTP 409 (the mesh is still processing this record id)",
                            retry_after_seconds(answer.headers.get("retry-after")))
        raise Refused(answer.status_code, problem)

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http().request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:  # refused, reset, dropped, broken body
            raise Transient(f"connection failed ({type(exc).__name__})") from None

    @staticmethod
    def _json(answer: httpx.Response) -> dict[str, Any]:
        try:
            body = answer.json()
        except ValueError:
            raise Transient(f"HTTP {answer.status_code} with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise Transient(f"HTTP {answer.status_code} with a body that is not an object")
        return body

    @staticmethod
    def _problem(answer: httpx.Response) -> dict[str, Any]:
        try:
            body = answer.json()
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {"title": answer.text[:200]}
