"""The back-sync's tables: the history cursor, link memories, the outbox and its leases.

Exactly once rests on three things here: the outbox rows of a poll and the cursor advance are
one transaction (a crash loses neither, and a poll is never applied twice: the cursor is
compared and set); a row's unique key (op, kind, conversation) absorbs any repeat; and a
conversation's rows are posted by one sender at a time (a lease, taken with SKIP LOCKED on
PostgreSQL), which records `started_at` before each post so that the next attempt checks
Intercom first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from itop_intercom.store.database import Database
from itop_intercom.store.tables import (
    backsync_conversations as conv_t,
)
from itop_intercom.store.tables import (
    backsync_cursor as cursor_t,
)
from itop_intercom.store.tables import (
    backsync_links as links_t,
)
from itop_intercom.store.tables import (
    backsync_outbox as outbox_t,
)
from itop_intercom.sync.back.decide import LinkKey, LinkMemory, Post
from itop_intercom.sync.back.render import KIND_RANK
from itop_intercom.sync.dbutil import insert_ignore, lock_rows, now, skip_locked

CURSOR = "history"


@dataclass(frozen=True)
class Cursor:
    op_id: int | None
    since: str | None


async def take_poll_lease(db: Database, owner: str, lease_seconds: float) -> Cursor | None:
    """The cursor, when this instance may poll now (one poller at a time); else None."""
    async with db.write_transaction() as conn:
        await conn.execute(insert_ignore(conn, cursor_t).values(name=CURSOR))
        t = now()
        result = await conn.execute(
            sa.update(cursor_t)
            .where(
                cursor_t.c.name == CURSOR,
                sa.or_(
                    cursor_t.c.lease_owner.is_(None),
                    cursor_t.c.lease_owner == owner,
                    cursor_t.c.lease_until < t,
                ),
            )
            .values(lease_owner=owner, lease_until=t + lease_seconds)
        )
        if result.rowcount != 1:
            return None
        row = (await conn.execute(sa.select(cursor_t).where(cursor_t.c.name == CURSOR))).one()
        return Cursor(None if row.op_id is None else int(row.op_id), row.since)


async def start_cursor(db: Database, owner: str, since: str) -> None:
    """First start: read the history from `since` (iTop-local "now") until an op is seen."""
    async with db.write_transaction() as conn:
        await conn.execute(
            sa.update(cursor_t)
            .where(
                cursor_t.c.name == CURSOR,
                cursor_t.c.lease_owner == owner,
                cursor_t.c.op_id.is_(None),
                cursor_t.c.since.is_(None),
            )
            .values(since=since)
        )


async def load_memory(db: Database, ticket_class: str) -> dict[LinkKey, LinkMemory]:
    query = sa.select(links_t).where(links_t.c.ticket_class == ticket_class)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {
        (int(r.ticket_id), r.workspace_id, r.conversation_id): LinkMemory(
            bool(r.sync_on), int(r.since_op)
        )
        for r in rows
    }


async def commit_poll(
    db: Database,
    owner: str,
    read_from: Cursor,
    new_op_id: int | None,
    posts: Sequence[Post],
    memory: Mapping[LinkKey, LinkMemory],
    ticket_class: str,
) -> bool:
    """Store a poll's outcome atomically; False (nothing stored) when another instance moved
    the cursor meanwhile (its poll wins; this one's rows would be the same)."""
    t = now()
    async with db.write_transaction() as conn:
        query = sa.select(cursor_t).where(cursor_t.c.name == CURSOR)
        row = (await conn.execute(lock_rows(conn, query))).one()
        current = Cursor(None if row.op_id is None else int(row.op_id), row.since)
        if current != read_from or row.lease_owner != owner:
            return False
        for post in posts:
            await conn.execute(
                insert_ignore(conn, outbox_t).values(
                    op_id=post.op_id,
                    kind=post.kind,
                    workspace_id=post.workspace_id,
                    conversation_id=post.conversation_id,
                    ticket_class=ticket_class,
                    ticket_id=post.ticket_id,
                    payload=post.payload,
                    changed_at=post.changed_at or t,
                    state="pending",
                    attempts=0,
                    due_at=t,
                    age_from=t,
                    created_at=t,
                )
            )
        for workspace_id, conversation_id in sorted(
            {(p.workspace_id, p.conversation_id) for p in posts}
        ):
            await schedule(conn, workspace_id, conversation_id, t)
        for (ticket_id, workspace_id, conversation_id), mem in memory.items():
            await conn.execute(
                sa.delete(links_t).where(
                    links_t.c.ticket_class == ticket_class,
                    links_t.c.ticket_id == ticket_id,
                    links_t.c.workspace_id == workspace_id,
                    links_t.c.conversation_id == conversation_id,
                )
            )
            await conn.execute(
                sa.insert(links_t).values(
                    ticket_class=ticket_class,
                    ticket_id=ticket_id,
                    workspace_id=workspace_id,
                    conversation_id=conversation_id,
                    sync_on=mem.sync_on,
                    since_op=mem.since_op,
                )
            )
        values: dict[str, Any] = {"polled_at": t}
        if new_op_id is not None and (current.op_id is None or new_op_id > current.op_id):
            values.update(op_id=new_op_id, since=None)
        await conn.execute(sa.update(cursor_t).where(cursor_t.c.name == CURSOR).values(**values))
    return True


async def schedule(
    conn: AsyncConnection, workspace_id: str, conversation_id: str, due: float
) -> None:
    await conn.execute(
        insert_ignore(conn, conv_t).values(
            workspace_id=workspace_id, conversation_id=conversation_id, due_at=due
        )
    )
    await conn.execute(
        sa.update(conv_t)
        .where(
            conv_t.c.workspace_id == workspace_id,
            conv_t.c.conversation_id == conversation_id,
            sa.or_(conv_t.c.due_at.is_(None), conv_t.c.due_at > due),
        )
        .values(due_at=due)
    )


# -- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    op_id: int
    kind: str
    workspace_id: str
    conversation_id: str
    ticket_class: str
    ticket_id: int
    payload: dict[str, Any]
    changed_at: float
    attempts: int
    due_at: float
    age_from: float
    started_at: float | None


async def claim(
    db: Database, owner: str, limit: int, lease_seconds: float
) -> list[tuple[str, str]]:
    """Lease up to `limit` conversations with rows due now."""
    if limit <= 0:
        return []
    claimed: list[tuple[str, str]] = []
    async with db.write_transaction() as conn:
        t = now()
        free = sa.or_(conv_t.c.lease_until.is_(None), conv_t.c.lease_until < t)
        query = (
            sa.select(conv_t.c.workspace_id, conv_t.c.conversation_id)
            .where(conv_t.c.due_at.is_not(None), conv_t.c.due_at <= t, free)
            .order_by(conv_t.c.due_at)
            .limit(limit)
        )
        for row in (await conn.execute(skip_locked(conn, query))).all():
            result = await conn.execute(
                sa.update(conv_t)
                .where(
                    conv_t.c.workspace_id == row.workspace_id,
                    conv_t.c.conversation_id == row.conversation_id,
                    free,
                )
                .values(lease_owner=owner, lease_until=t + lease_seconds)
            )
            if result.rowcount == 1:
                claimed.append((row.workspace_id, row.conversation_id))
    return claimed


async def renew(db: Database, owner: str, lease_seconds: float, poll_lease_seconds: float) -> None:
    async with db.write_transaction() as conn:
        await conn.execute(
            sa.update(conv_t)
            .where(conv_t.c.lease_owner == owner)
            .values(lease_until=now() + lease_seconds)
        )
        await conn.execute(
            sa.update(cursor_t)
            .where(cursor_t.c.lease_owner == owner)
            .values(lease_until=now() + poll_lease_seconds)
        )


async def pending(db: Database, workspace_id: str, conversation_id: str) -> list[OutboxRow]:
    """The conversation's pending rows in iTop's order (op id, then the kind's rank)."""
    query = sa.select(outbox_t).where(
        outbox_t.c.workspace_id == workspace_id,
        outbox_t.c.conversation_id == conversation_id,
        outbox_t.c.state == "pending",
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    items = [
        OutboxRow(
            id=int(r.id),
            op_id=int(r.op_id),
            kind=r.kind,
            workspace_id=r.workspace_id,
            conversation_id=r.conversation_id,
            ticket_class=r.ticket_class,
            ticket_id=int(r.ticket_id),
            payload=dict(r.payload or {}),
            changed_at=float(r.changed_at),
            attempts=int(r.attempts),
            due_at=float(r.due_at),
            age_from=float(r.age_from),
            started_at=None if r.started_at is None else float(r.started_at),
        )
        for r in rows
    ]
    items.sort(key=lambda r: (r.op_id, KIND_RANK.get(r.kind, 9), r.id))
    return items


def _holding(owner: str, workspace_id: str, conversation_id: str) -> Any:
    return sa.exists().where(
        conv_t.c.workspace_id == workspace_id,
        conv_t.c.conversation_id == conversation_id,
        conv_t.c.lease_owner == owner,
    )


async def mark_started(db: Database, row: OutboxRow, owner: str) -> bool:
    """Record that a post is about to be sent; False when this sender lost the lease."""
    async with db.write_transaction() as conn:
        result = await conn.execute(
            sa.update(outbox_t)
            .where(
                outbox_t.c.id == row.id,
                outbox_t.c.state == "pending",
                _holding(owner, row.workspace_id, row.conversation_id),
            )
            .values(started_at=now(), attempts=outbox_t.c.attempts + 1)
        )
        return bool(result.rowcount == 1)


async def finish(db: Database, row_id: int, state: str, error: str | None = None) -> None:
    async with db.write_transaction() as conn:
        await conn.execute(
            sa.update(outbox_t)
            .where(outbox_t.c.id == row_id, outbox_t.c.state == "pending")
            .values(
                state=state,
                last_error=error[:2000] if error else None,
                finished_at=now(),
            )
        )


async def retry(db: Database, row_id: int, due: float, error: str) -> None:
    """Try again at `due`. `started_at` stays: once a post may have been sent, every later
    attempt looks for it in the conversation before posting."""
    values: dict[str, Any] = {"due_at": due, "last_error": error[:2000]}
    async with db.write_transaction() as conn:
        await conn.execute(
            sa.update(outbox_t)
            .where(outbox_t.c.id == row_id, outbox_t.c.state == "pending")
            .values(**values)
        )


async def release(db: Database, workspace_id: str, conversation_id: str, owner: str) -> None:
    """Give the conversation back, due at its first pending row (or nothing to do)."""
    async with db.write_transaction() as conn:
        first = (
            await conn.execute(
                sa.select(sa.func.min(outbox_t.c.due_at)).where(
                    outbox_t.c.workspace_id == workspace_id,
                    outbox_t.c.conversation_id == conversation_id,
                    outbox_t.c.state == "pending",
                )
            )
        ).scalar_one_or_none()
        await conn.execute(
            sa.update(conv_t)
            .where(
                conv_t.c.workspace_id == workspace_id,
                conv_t.c.conversation_id == conversation_id,
                conv_t.c.lease_owner == owner,
            )
            .values(due_at=first, lease_owner=None, lease_until=None)
        )
