"""The database of one service instance: its engine, the SQLite write gate and the wake-ups.

SQLite allows one writer at a time. Two transactions of the same process that both write would
meet SQLite's busy handler, which sleeps in steps of up to 100 ms (bad for the webhook's
latency), and a deferred transaction that reads and then writes can fail outright with
SQLITE_BUSY when another connection committed in between. So every write transaction goes
through `write_transaction`, which on SQLite first takes this database's asyncio lock: writes of
one process are queued in memory instead of in SQLite. PostgreSQL needs no gate.

On SQLite the worker also copies the write-ahead log back into the database every second
(`checkpoint`, run by `sync.checkpoint_loop`): left to SQLite, the copy of 1,000 pages at once
is made by whichever commit makes the log that long, and that commit (most often a webhook's)
waits for it and its fsync, a hundred milliseconds or more.

The wake-ups tell the workers of this process that rows are waiting (parts stored, a job
enqueued). They are only an optimisation over polling (`sync.poll_seconds`): a worker in another
process still finds the rows at its next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from itop_intercom.store.db import create_blocking_sqlite_engine

_T = TypeVar("_T")


class WakeUps:
    """Events set whenever `notify` is called, one per subscribed worker."""

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._events.discard(event)

    def notify(self) -> None:
        for event in self._events:
            event.set()


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.wakeups = WakeUps()
        self._write_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def write_gate(self) -> AsyncIterator[None]:
        """Only the gate, for a caller that manages its own connection and transaction."""
        if self.is_sqlite:
            async with self._write_lock:
                yield
        else:
            yield

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that writes; committed on success, rolled back on error."""
        async with self.write_gate(), self.engine.begin() as conn:
            yield conn

    @cached_property
    def _blocking_engine(self) -> sa.Engine:
        return create_blocking_sqlite_engine(self.engine.url.render_as_string(False))

    async def write_in_thread(self, work: Callable[[sa.Connection], _T]) -> _T:
        """SQLite only: run `work` as one transaction in a thread, on a blocking connection,
        holding the write gate meanwhile. For background writes (the retention purge) that
        must hold the gate as briefly as possible: an async transaction comes back to the
        event loop after every statement, and on a busy loop each return waits behind the
        requests, all of it with the gate held; here the gate is held for the work itself
        and a single return."""
        engine = self._blocking_engine

        def transaction() -> _T:
            with engine.begin() as conn:
                return work(conn)

        async with self.write_gate():
            return await asyncio.to_thread(transaction)

    async def checkpoint(self) -> tuple[int, int]:
        """SQLite: copy what the write-ahead log holds back into the database, without waiting
        for readers or writers (PASSIVE); return the log's length and how much of it was copied,
        in pages. PostgreSQL checkpoints on its own: (0, 0)."""
        if not self.is_sqlite:
            return 0, 0
        async with self.engine.connect() as conn:
            result = await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            _busy, log, copied = tuple(result.one())
        return int(log), int(copied)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if "_blocking_engine" in self.__dict__:
            self._blocking_engine.dispose()
