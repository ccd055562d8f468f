"""The few places where SQLite and PostgreSQL need different SQL (the write gate is
`store.database.Database`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Revived:
    """What `revive_dead` did: the rows it looked at, by id, and the ids made pending again."""

    found: dict[int, Any]
    revived: list[int]
    not_found: list[int]
    not_dead: list[tuple[int, str]]


#: Rows made pending per UPDATE by `revive_dead`.
REVIVE_CHUNK = 500


async def revive_dead(
    conn: AsyncConnection,
    table: sa.Table,
    ids: Sequence[int],
    *,
    all_dead: bool,
    values: Mapping[str, Any],
    columns: Sequence[sa.ColumnElement[Any]] = (),
) -> Revived:
    """Dead rows of a queue table (`ids`, or every dead one) made pending with `values`: the one
    replay rule of the `events replay` commands. `columns` are read with each row for the
    caller's own follow-up; a row that stopped being dead meanwhile is left alone."""
    query = sa.select(table.c.id, table.c.state, *columns)
    query = query.where(table.c.state == "dead") if all_dead else query.where(table.c.id.in_(ids))
    found = {int(r.id): r for r in (await conn.execute(query)).all()}
    revived = sorted(i for i, r in found.items() if r.state == "dead")
    # In chunks: `--all` may revive more rows than one statement may carry parameters.
    for start in range(0, len(revived), REVIVE_CHUNK):
        await conn.execute(
            sa.update(table)
            .where(table.c.id.in_(revived[start : start + REVIVE_CHUNK]), table.c.state == "dead")
            .values(state="pending", **values)
        )
    return Revived(
        found=found,
        revived=revived,
        not_found=[] if all_dead else [i for i in ids if i not in found],
        not_dead=[(i, str(r.state)) for i, r in found.items() if r.state != "dead"],
    )
