"""SQLite storage: one file per simulator, WAL journal, durable commits, explicit transactions.

Simulators serve from one event loop, so one connection serialises writes; BEGIN IMMEDIATE takes
the write lock up front, which also makes sequence numbers commit in the order they were taken
(the difference feed relies on that).

**Group commit.** A hot path that writes a little per request (a read's audit entry) can run
its writes through :meth:`Database.durably` (or inside :meth:`Database.grouped`, then ``await``
the returned :class:`Durable`): the transactions of every request that reaches the database
in the same turn of the event loop share one SQLite transaction (each inside its own savepoint,
so one that raises takes only its own changes back), committed once — one fsync for the batch with
``synchronous=FULL`` — at the end of that turn, in a worker thread (the fsync does not hold up
the event loop; with ``NORMAL`` there is no fsync and the commit is made on the loop itself).
The request answers only after the await, i.e. after the commit that makes its changes
durable; if that commit fails, every request of the batch fails with it. While a batch commits,
the next requests wait for it (:meth:`Database.ready`) and then form the next batch.
Any other use of the connection (a plain transaction, a query, closing) commits an open group
first, so the order of writes, and what a reader sees, is as if every transaction had
committed on its own.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
# With the WAL journal, NORMAL makes a commit survive the simulator's crash or restart (the
# project's rule: data written survives a restart); FULL adds an fsync per commit so that it
# also survives a power loss, at 1–8 ms a commit on the machines measured.
DEFAULT_SYNCHRONOUS = "NORMAL"


class Durable:
    """What a request in :meth:`Database.grouped` waits on before it answers: the commits of
    the groups its transactions joined (none joined: nothing to wait for)."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        # The request's own future (not the group's: a request cancelled while it waits must
        # not cancel anybody else's wait), settled once every group it joined has committed.
        self._done: asyncio.Future[None] | None = None
        self._error: BaseException | None = None

    async def wait(self) -> None:
        if self._done is not None:
            await self._done

    def _join(self, group: _Group) -> None:
        if group not in self.groups:
            self.groups.append(group)
            group.members.append(self)
            if self._done is None:
                self._done = group.loop.create_future()

    def _settled(self, error: BaseException | None) -> None:
        self._error = self._error or error
        if self._done is None or self._done.done():
            return  # cancelled: nobody is waiting
        if all(g.done.is_set() for g in self.groups):
            if self._error is None:
                self._done.set_result(None)
            else:
                self._done.set_exception(self._error)
                self._done.exception()  # retrieved here too: no "never retrieved" warning


class _Group:
    """The open SQLite transaction shared by the grouped transactions of one loop turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.members: list[Durable] = []
        self.sealed = False  # handed to the committer: nobody joins it any more
        self.done = asyncio.Event()  # set once committed, or once the commit failed

    def settle(self, error: BaseException | None) -> None:
        """Tell the members how the commit went (on the group's loop)."""
        if self.done.is_set():
            return
        self.done.set()
        for member in self.members:
            member._settled(error)


T = TypeVar("T")

_GROUPED: contextvars.ContextVar[Durable | None] = contextvars.ContextVar(
    "meshcert_grouped_commit", default=None)


def _settle(group: _Group, error: BaseException | None) -> None:
    """:meth:`_Group.settle` on the group's loop, from whichever thread committed it."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is group.loop:
        group.settle(error)
    else:
        with suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            group.loop.call_soon_threadsafe(group.settle, error)


class Database:
    """A SQLite file with the simulator's schema applied (idempotently) on open."""

    def __init__(self, path: Path, schema: str,
                 synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._group: _Group | None = None  # open or sealed, not committed yet
        self._committer: ThreadPoolExecutor | None = None
        # Without an fsync a commit takes microseconds: done on the loop, no thread handoff.
        self._commit_inline = synchronous.upper() in ("OFF", "NORMAL")
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Inside :meth:`grouped` (on the event loop's thread), the block joins the loop turn's
        group instead and is committed with it (see the module's documentation)."""
        durable = _GROUPED.get()
        loop = _running_loop() if durable is not None else None
        with self._lock:
            if loop is None or durable is None:
                self._commit_group()
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
                return
            group = self._group
            if group is None or group.sealed or group.loop is not loop:
                self._commit_group()
                self._conn.execute("BEGIN IMMEDIATE")
                group = self._group = _Group(loop)
                loop.call_soon(self._seal, group)
            # One name for all: each is released before the next begins (or nests inside it,
            # where SQLite takes the innermost of a name), and one text keeps the statements
            # prepared in the connection's cache.
            self._conn.execute("SAVEPOINT grouped")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK TO grouped")
                self._conn.execute("RELEASE grouped")
                raise
            self._conn.execute("RELEASE grouped")
            durable._join(group)

    @contextmanager
    def grouped(self) -> Iterator[Durable]:
        """Let the transactions of this block join the current loop turn's group commit;
        ``await`` the yielded :class:`Durable` (after the block) before answering."""
        durable = Durable()
        token = _GROUPED.set(durable)
        try:
            yield durable
        finally:
            _GROUPED.reset(token)

    async def durably(self, write: Callable[[], T]) -> T:
        """``write()`` (its transactions) in this loop turn's group commit; its result once
        the group has committed. For a request that answers only after its writes are
        durable: ``record = await db.durably(lambda: store.read_resident(...))``."""
        await self.ready()
        with self.grouped() as durable:
            result = write()
        await durable.wait()
        return result

    async def ready(self) -> None:
        """Wait until no batch is being committed (the next one then forms at once)."""
        group = self._group
        if group is not None and group.sealed:
            await group.done.wait()  # its own members get an error, if any

    def _seal(self, group: _Group) -> None:
        """End of the loop turn that opened ``group``: commit it in the committer thread."""
        with self._lock:
            if self._group is not group:
                return  # already committed by someone who needed the connection
            group.sealed = True
            if self._commit_inline:
                self._commit_group()
                return
            if self._committer is None:
                self._committer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-commit")
            self._committer.submit(self._commit_group_of, group)

    def _commit_group_of(self, group: _Group) -> None:
        with self._lock:
            if self._group is group:
                self._commit_group()

    def _commit_group(self) -> None:
        """Commit the open group, if any, and settle its waiters (under ``_lock``)."""
        group, self._group = self._group, None
        if group is None:
            return
        try:
            self._conn.execute("COMMIT")
        except BaseException as exc:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            _settle(group, exc)
            if not isinstance(exc, sqlite3.Error):
                raise
            return
        _settle(group, None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            self._commit_group()
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            self._commit_group()
            return self._conn.execute(sql, params).fetchone()

    def close(self) -> None:
        with self._lock:
            self._commit_group()
            self._conn.close()
            committer, self._committer = self._committer, None
        if committer is not None:
            committer.shutdown(wait=False)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
