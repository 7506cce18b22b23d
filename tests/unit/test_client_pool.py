"""The mesh's outgoing clients (simulators.common.client_pool): a client of its own for each
call in flight, reused afterwards, all closed at the end."""

from __future__ import annotations

import asyncio

import httpx

from simulators.common.client_pool import ClientPool, single_connection


def answering() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))


def test_calls_in_flight_get_clients_of_their_own_and_reuse_them() -> None:
    pool = ClientPool(single_connection(answering()))

    async def main() -> None:
        async with pool.client() as first, pool.client() as second:
            assert first is not second
            assert (await first.get("http://provider/x")).json() == {"ok": True}
        async with pool.client() as again:
            assert again in (first, second)
        assert pool.size == 2
        await pool.aclose()
        assert first.is_closed and second.is_closed

    asyncio.run(main())


def test_many_calls_at_once_need_only_as_many_clients() -> None:
    pool = ClientPool(single_connection(answering()))
    in_flight = 0
    most = 0

    async def call() -> int:
        nonlocal in_flight, most
        async with pool.client() as client:
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.001)
            status = (await client.get("http://provider/x")).status_code
            in_flight -= 1
            return status

    async def main() -> tuple[list[int], int]:
        statuses = []
        for _ in range(3):  # three waves of 8: the clients of the first are reused
            statuses += await asyncio.gather(*(call() for _ in range(8)))
        made = pool.size
        await pool.aclose()
        return statuses, made

    statuses, made = asyncio.run(main())
    assert statuses == [200] * 24
    assert made == most == 8


def test_a_client_closed_during_a_call_is_not_lent_again() -> None:
    pool = ClientPool(single_connection(answering()))

    async def main() -> None:
        async with pool.client() as broken:
            await broken.aclose()
        async with pool.client() as fresh:
            assert fresh is not broken and not fresh.is_closed
        await pool.aclose()

    asyncio.run(main())
