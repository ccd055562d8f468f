"""The few places where SQLite and PostgreSQL need different SQL (the write gate is
`store.database.Database`)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def now() -> float:
    """Epoch seconds: the unit of every scheduling column (`EpochSeconds`)."""
    return time.time()


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
