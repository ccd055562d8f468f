"""The database of one service instance: its engine, the SQLite write gate and the wake-ups.

SQLite allows one writer at a time. Two transactions of the same process that both write would
meet SQLite's busy handler, which sleeps in steps of up to 100 ms (bad for the webhook's
latency), and a deferred transaction that reads and then writes can fail outright with
SQLITE_BUSY when another connection committed in between. So every write transaction goes
through `write_transaction`, which on SQLite first takes this database's asyncio lock: writes of
one process are queued in memory instead of in SQLite. PostgreSQL needs no gate.

The wake-ups tell the workers of this process that rows are waiting (parts stored, a job
enqueued). They are only an optimisation over polling (`sync.poll_seconds`): a worker in another
process still finds the rows at its next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


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

    async def dispose(self) -> None:
        await self.engine.dispose()
