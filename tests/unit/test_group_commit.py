"""Group commit (meshcert_simulators.common.storage): the transactions of one event-loop turn commit
together, each request's changes are durable before it is told so, one that fails takes back
only its own changes, and everything else sees the database as if each had committed alone."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from meshcert_simulators.common.storage import Database

SCHEMA = "CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, who TEXT);"


def committed(path: Path) -> list[int]:
    """What another connection sees: only committed rows."""
    other = sqlite3.connect(path)
    try:
        return [r[0] for r in other.execute("SELECT n FROM t ORDER BY n")]
    finally:
        other.close()


class CountingCommits:
    """The connection, counting COMMITs (sqlite3.Connection cannot be patched)."""

    def __init__(self, conn: sqlite3.Connection, fail: bool = False) -> None:
        self.conn, self.commits, self.fail = conn, 0, fail

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            self.commits += 1
            if self.fail:
                raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


async def grouped_insert(db: Database, n: int, fail: bool = False) -> None:
    await db.ready()
    with db.grouped() as durable:
        try:
            with db.transaction() as conn:
                conn.execute("INSERT INTO t VALUES (?, 'x')", (n,))
                if fail:
                    raise ValueError("this request fails")
        except ValueError:
            return
    await durable.wait()
    assert n in committed(db.path)  # durable before the request goes on


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_one_turns_transactions_commit_once_and_in_order(tmp_path: Path, synchronous: str) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA, synchronous)
    counter = CountingCommits(db._conn)
    db._conn = counter  # type: ignore[assignment]

    async def main() -> None:
        await asyncio.gather(*(grouped_insert(db, n) for n in range(1, 21)))

    asyncio.run(main())
    assert committed(db.path) == list(range(1, 21))
    assert counter.commits == 1
    db.close()


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_a_failing_member_takes_back_only_its_own_changes(tmp_path: Path, synchronous: str) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA, synchronous)

    async def main() -> None:
        await asyncio.gather(grouped_insert(db, 1), grouped_insert(db, 2, fail=True),
                             grouped_insert(db, 3))

    asyncio.run(main())
    assert committed(db.path) == [1, 3]
    db.close()


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_a_failed_commit_fails_every_member(tmp_path: Path, synchronous: str) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA, synchronous)
    db._conn = CountingCommits(db._conn, fail=True)  # type: ignore[assignment]

    async def main() -> list[Any]:
        return await asyncio.gather(grouped_insert(db, 1), grouped_insert(db, 2),
                                    return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes), outcomes
    assert committed(db.path) == []


def test_other_uses_commit_an_open_group_first(tmp_path: Path) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA)

    async def main() -> None:
        with db.grouped() as durable, db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1, 'grouped')")
        # Before the turn ends: a plain transaction and a query run as if 1 had committed.
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (2, 'plain')")
        assert [r["n"] for r in db.query("SELECT n FROM t ORDER BY n")] == [1, 2]
        assert committed(db.path) == [1, 2]
        await durable.wait()

    asyncio.run(main())
    db.close()


def test_outside_an_event_loop_a_grouped_transaction_commits_at_once(tmp_path: Path) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA)
    with db.grouped() as durable, db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1, 'x')")
    assert committed(db.path) == [1] and durable.groups == []
    db.close()


def test_closing_commits_what_is_open(tmp_path: Path) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA)

    async def main() -> None:
        with db.grouped(), db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1, 'x')")
        db.close()

    asyncio.run(main())
    assert committed(tmp_path / "g.sqlite3") == [1]


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_batches_follow_one_another(tmp_path: Path, synchronous: str) -> None:
    """Requests arriving while a batch commits form the next one; all are durable."""
    db = Database(tmp_path / "g.sqlite3", SCHEMA, synchronous)

    async def main() -> None:
        async def later(n: int) -> None:
            await asyncio.sleep(0.001 * (n % 7))
            await grouped_insert(db, n)
        await asyncio.gather(*(later(n) for n in range(1, 101)))

    asyncio.run(main())
    assert committed(db.path) == list(range(1, 101))
    db.close()


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_a_request_cancelled_while_waiting_leaves_the_others_waiting(
        tmp_path: Path, synchronous: str) -> None:
    db = Database(tmp_path / "g.sqlite3", SCHEMA, synchronous)

    async def main() -> None:
        first = asyncio.ensure_future(grouped_insert(db, 1))
        second = asyncio.ensure_future(grouped_insert(db, 2))
        await asyncio.sleep(0)  # both have joined the group and wait for its commit
        first.cancel()
        await second  # committed and told so, though its companion was cancelled
        assert first.cancelled()

    asyncio.run(main())
    assert committed(db.path) == [1, 2]  # a cancelled wait takes nothing back
    db.close()


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_durably_returns_the_writes_result_once_the_group_committed(
        tmp_path: Path, synchronous: str) -> None:
    db = Database(tmp_path / "d.sqlite3", SCHEMA, synchronous)
    counting = CountingCommits(db._conn)
    db._conn = counting  # type: ignore[assignment]

    def insert(n: int) -> int:
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (?, 'x')", (n,))
        return n * 10

    async def one(n: int) -> int:
        result = await db.durably(lambda: insert(n))
        assert n in committed(db.path)  # durable before the caller goes on
        return result

    async def main() -> list[int]:
        return await asyncio.gather(*(one(n) for n in range(1, 9)))

    assert asyncio.run(main()) == [10, 20, 30, 40, 50, 60, 70, 80]
    assert counting.commits == 1  # one turn, one commit for all eight
    db.close()
