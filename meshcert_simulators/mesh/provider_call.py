"""The mesh's call to a provider: one ``POST /v1/provisions`` per inquiry, its answer checked
before anything of it is passed on (meshcert_simulators/contracts/provider.py is the contract)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import ValidationError

from meshcert_simulators.common.http1_transport import Http1Transport, post
from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.topology import Institution, Topology
from meshcert_simulators.contracts.provider import (
    LINE_OK,
    PROVISIONS_PATH,
    ProvisionRequest,
    ProvisionResponse,
)

DEFAULT_PROVIDER_TIMEOUT_S = 5.0

# Records the outcome of a failed call (the art. 23 record's ``outcome``, its provided time).
RecordOutcome = Callable[[str, str | None], None]


class ProviderCaller:
    """Calls providers for the mesh. Reads ``provider_transport`` (None: the network; tests put
    an ``httpx.ASGITransport`` serving a provider app there) and ``provider_timeout`` from the
    app's state at the time of each call, so a test or a negative control can change them."""

    def __init__(self, state: Any, topology: Topology, token: str | None) -> None:
        self.state = state
        self.topology = topology
        self.headers = [(b"Content-Type", b"application/json")]
        if token:
            self.headers.append((b"Authorization", f"Bearer {token}".encode()))
        self._urls: dict[str, httpx.URL] = {}
        self._network: tuple[asyncio.AbstractEventLoop, Http1Transport] | None = None

    def transport(self) -> httpx.AsyncBaseTransport:
        """The transport to providers: one a test put in, else HTTP/1.1 over kept-alive
        connections (http1_transport.py), one per running event loop. Calls go through
        ``http1_transport.post``, not an httpx client: its layers (redirects, cookies, auth
        flows the hop does not use) and models cost about as much as the hop itself."""
        if self.state.provider_transport is not None:
            return self.state.provider_transport
        loop = asyncio.get_running_loop()
        if self._network is None or self._network[0] is not loop:
            self._network = (loop, Http1Transport())
        return self._network[1]

    async def close(self) -> None:
        """Close the network transport of the running loop (at the app's shutdown)."""
        cached, self._network = self._network, None
        if cached is not None and cached[0] is asyncio.get_running_loop():
            await cached[1].aclose()

    def url(self, provider: Institution) -> httpx.URL:
        """Parsed once per provider (httpx's URL parsing was ~6 % of an inquiry's time)."""
        url = self._urls.get(provider.code)
        if url is None:
            base = provider.url if provider.url else self.topology.url(str(provider.simulator))
            url = self._urls[provider.code] = httpx.URL(base.rstrip("/") + PROVISIONS_PATH)
        return url

    async def call(self, provider: Institution, outgoing: ProvisionRequest,
                   record: RecordOutcome) -> ProvisionResponse:
        """The provider's checked answer; else a Problem (502/504), its outcome recorded."""
        def failed(status: int, slug: str, title: str, detail: str) -> Problem:
            record(slug, None)
            return Problem(status, slug, title, detail, provider=provider.code)

        timeout = float(self.state.provider_timeout)
        try:
            async with asyncio.timeout(timeout):
                # The guard above bounds the whole call (connecting included) on every
                # transport; a second timer inside would only cost time.
                status, content = await post(self.transport(), self.url(provider),
                                             self.headers, outgoing.model_dump_json().encode(),
                                             None)
        except (TimeoutError, httpx.TimeoutException):
            raise failed(504, "provider-timeout", "The provider did not answer in time",
                         f"no answer from {provider.code} within {timeout} s") from None
        except httpx.HTTPError as exc:
            raise failed(502, "provider-unreachable", "The provider cannot be reached",
                         f"{provider.code}: {type(exc).__name__}") from None
        if status != 200:
            raise failed(502, "provider-bad-answer", "The provider answered with an error",
                         f"{provider.code} answered HTTP {status}")
        try:
            answer = ProvisionResponse.model_validate_json(content)
        except ValidationError as exc:
            raise failed(502, "provider-bad-answer", "The provider's answer is not valid",
                         f"{provider.code}: {exc.error_count()} problem(s) in the answer"
                         ) from None
        # Valid JSON (just checked) is UTF-8 (RFC 8259 §8.1): no charset detection needed.
        if find_my_numbers(content.decode()):
            raise failed(502, "provider-bad-answer", "The provider's answer is refused",
                         f"{provider.code} answered with a My-Number-shaped value; it is not "
                         "passed on")
        if answer.status != LINE_OK or any(i.item_code != outgoing.item_code
                                           for i in answer.items):
            raise failed(502, "provider-bad-answer", "The provider's answer is refused",
                         f"{provider.code}: line status {answer.status!r} or items other than "
                         f"{outgoing.item_code}")
        return answer
