"""Outgoing HTTP for a simulator that calls another one on every request (the mesh calling
providers): httpx clients of one connection each, lent out one per call.

One client shared by concurrent calls is slow here: on every request and every response,
httpcore's pool checks each pooled connection for expiry (a poll of its socket) and, for each
idle one, counts the idle ones again — work that grows with the square of the connections in
use, about half of the mesh's time per inquiry with 16 inquiries in flight. A client per call
in flight keeps each pool at one connection; clients are made as concurrency needs them and
kept for reuse (building one loads the TLS trust store, ~50 ms).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx


class ClientPool:
    """Clients made by ``make`` (each should allow one connection), lent one per call."""

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self.make = make
        self._free: list[httpx.AsyncClient] = []
        self._made: list[httpx.AsyncClient] = []

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client of its own for one call; back in the pool when the block ends."""
        if self._free:
            lent = self._free.pop()
        else:
            lent = self.make()
            self._made.append(lent)
        try:
            yield lent
        finally:
            if not lent.is_closed:
                self._free.append(lent)

    @property
    def size(self) -> int:
        """How many clients were made (the most calls in flight at once, so far)."""
        return len(self._made)

    async def aclose(self) -> None:
        made, self._made, self._free = self._made, [], []
        for client in made:
            await client.aclose()


def single_connection(transport: httpx.AsyncBaseTransport | None = None
                      ) -> Callable[[], httpx.AsyncClient]:
    """A ``make`` for :class:`ClientPool`: clients of one connection over ``transport``
    (None: the network)."""
    def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport,
                                 limits=httpx.Limits(max_connections=1,
                                                     max_keepalive_connections=1))
    return make
