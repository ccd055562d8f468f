"""The few places where SQLite and PostgreSQL need different SQL, and the SQLite write gate.

SQLite allows one writer at a time. Two transactions of the same process that both write would
meet SQLite's busy handler, which sleeps in steps of up to 100 ms (bad for the webhook's
latency), and a deferred transaction that reads and then writes can fail outright with
SQLITE_BUSY when another connection committed in between. So every write transaction of the
sync goes through `write_transaction`, which on SQLite first takes one asyncio lock per engine:
writes of one process are queued in memory instead of in SQLite. PostgreSQL needs no gate.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_locks: weakref.WeakKeyDictionary[sa.Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def is_sqlite(engine: AsyncEngine | AsyncConnection) -> bool:
    return engine.dialect.name == "sqlite"


def now() -> float:
    """Epoch seconds: the unit of every scheduling column (`EpochSeconds`)."""
    return time.time()


def _lock(engine: AsyncEngine) -> asyncio.Lock:
    lock = _locks.get(engine.sync_engine)
    if lock is None:
        lock = asyncio.Lock()
        _locks[engine.sync_engine] = lock
    return lock


@asynccontextmanager
async def write_gate(engine: AsyncEngine) -> AsyncIterator[None]:
    """Only the gate, for a caller that manages its own connection and transaction."""
    if is_sqlite(engine):
        async with _lock(engine):
            yield
    else:
        yield


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that writes; committed on success, rolled back on error."""
    if is_sqlite(engine):
        async with _lock(engine), engine.begin() as conn:
            yield conn
    else:
        async with engine.begin() as conn:
            yield conn


def insert_ignore(conn: AsyncConnection | AsyncEngine, table: sa.Table) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def skip_locked(conn: AsyncConnection, query: sa.Select[Any]) -> sa.Select[Any]:
    """Row locks that skip rows another worker holds (PostgreSQL); SQLite has one writer."""
    if conn.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def lock_rows(conn: AsyncConnection, query: sa.Select[Any]) -> sa.Select[Any]:
    """Row locks that wait (PostgreSQL); SQLite is already serialised by the write gate."""
    if conn.dialect.name == "postgresql":
        return query.with_for_update()
    return query
