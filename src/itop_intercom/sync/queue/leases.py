"""Leasing conversations to workers, and reading what a leased conversation has to do."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import itop_intercom.sync.queue.planning as planning
from itop_intercom.store.database import Database
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.store.tables import jobs as jobs_t
from itop_intercom.store.tables import sync_conversations as conv_t
from itop_intercom.sync.dbutil import now, skip_locked
from itop_intercom.sync.queue.model import PENDING, Claim, ConversationKey, Delivery
from itop_intercom.sync.queue.planning import is_conversation, refresh_due


async def claim_conversations(
    db: Database, owner: str, limit: int, lease_seconds: float
) -> list[Claim]:
    """Lease up to `limit` due conversations that nobody holds (or whose holder went silent)."""
    if limit <= 0:
        return []
    t = now()
    free = sa.or_(conv_t.c.lease_until.is_(None), conv_t.c.lease_until < t)
    query = (
        sa.select(conv_t.c.workspace_id, conv_t.c.conversation_id, conv_t.c.lease_owner)
        .where(conv_t.c.due_at <= t, free)
        .order_by(conv_t.c.due_at)
        .limit(limit)
    )
    # Look first without writing: an idle worker must not take the write lock every poll.
    async with db.engine.connect() as conn:
        if (await conn.execute(query.limit(1))).first() is None:
            return []
    claims = []
    async with db.write_transaction() as conn:
        for row in (await conn.execute(skip_locked(conn, query))).all():
            key = (row.workspace_id, row.conversation_id)
            result = await conn.execute(
                sa.update(conv_t)
                .where(is_conversation(key), free)
                .values(lease_owner=owner, lease_until=t + lease_seconds)
            )
            if result.rowcount == 1:
                claims.append(Claim(key, taken_over=row.lease_owner is not None))
    return claims


async def release(
    db: Database,
    key: ConversationKey,
    owner: str,
    *,
    not_before: float | None = None,
    finished: Sequence[Delivery] = (),
) -> None:
    """Record the finished deliveries, reschedule the conversation and drop its lease."""
    async with db.write_transaction() as conn:
        await planning.mark_done_rows(conn, finished)
        await refresh_due(conn, [key], not_before=not_before, release_owner=owner)


async def renew_leases(db: Database, owner: str, lease_seconds: float) -> None:
    """Heartbeat: keep every lease this worker holds (conversations and jobs)."""
    async with db.write_transaction() as conn:
        until = now() + lease_seconds
        await conn.execute(
            sa.update(conv_t).where(conv_t.c.lease_owner == owner).values(lease_until=until)
        )
        await conn.execute(
            sa.update(jobs_t)
            .where(jobs_t.c.lease_owner == owner, jobs_t.c.state == PENDING)
            .values(lease_until=until)
        )


async def load_pending(db: Database, key: ConversationKey, limit: int = 200) -> list[Delivery]:
    """The conversation's pending deliveries, in conversation order."""
    d, p = deliveries_t, parts_t
    query = (
        sa.select(
            d.c.id,
            d.c.part_row_id,
            d.c.workspace_id,
            d.c.conversation_id,
            d.c.ticket_class,
            d.c.ticket_id,
            d.c.origin,
            d.c.attempts,
            d.c.due_at,
            d.c.age_from,
            d.c.started_at,
            d.c.step,
            d.c.progress,
            p.c.part_id,
            p.c.part_type,
            p.c.topic,
            p.c.log,
            p.c.author_type,
            p.c.author_name,
            p.c.author_email,
            p.c.body,
            p.c.attachments,
            d.c.part_created_at,
            p.c.received_at,
        )
        .join(p, p.c.id == d.c.part_row_id)
        .where(
            d.c.workspace_id == key[0],
            d.c.conversation_id == key[1],
            d.c.state == PENDING,
        )
        .order_by(d.c.part_created_at, d.c.part_seq, d.c.id)
        .limit(limit)
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    out = []
    for r in rows:
        values = dict(r._mapping)
        values["progress"] = dict(values["progress"] or {})
        values["attachments"] = list(values["attachments"] or [])
        out.append(Delivery(**values))
    return out


async def earliest_unplanned(db: Database, key: ConversationKey) -> int | None:
    """Creation time of the conversation's earliest part not planned yet, if any."""
    query = sa.select(sa.func.min(parts_t.c.part_created_at)).where(
        parts_t.c.workspace_id == key[0],
        parts_t.c.conversation_id == key[1],
        parts_t.c.plan == "new",
        parts_t.c.log.is_not(None),
    )
    async with db.engine.connect() as conn:
        value = (await conn.execute(query)).scalar()
    return None if value is None else int(value)
