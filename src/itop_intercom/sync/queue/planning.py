"""Writing deliveries (adding them, marking them done) and keeping each conversation's
`due_at` right under its row lock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.store.tables import sync_conversations as conv_t
from itop_intercom.sync.dbutil import insert_ignore, lock_rows, now
from itop_intercom.sync.queue.model import DONE, PENDING, ConversationKey, Delivery, PartRef


def new_delivery_rows(
    parts: Iterable[PartRef],
    tickets: Sequence[tuple[str, int]],
    *,
    origin: str,
    due_at: Mapping[int, float] | float,
    created_at: float,
) -> list[dict[str, Any]]:
    rows = []
    for part in parts:
        due = due_at if isinstance(due_at, float) else due_at[part.row_id]
        for ticket_class, ticket_id in tickets:
            rows.append(
                {
                    "part_row_id": part.row_id,
                    "workspace_id": part.workspace_id,
                    "conversation_id": part.conversation_id,
                    "part_created_at": part.part_created_at,
                    "part_seq": part.part_seq,
                    "ticket_class": ticket_class,
                    "ticket_id": ticket_id,
                    "origin": origin,
                    "state": PENDING,
                    "attempts": 0,
                    "due_at": due,
                    "age_from": created_at,
                    "created_at": created_at,
                }
            )
    return rows


async def add_deliveries(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert deliveries; one that exists already (same part and ticket) is left as it is."""
    if rows:
        await conn.execute(insert_ignore(conn, deliveries_t), list(rows))


def _head_due(key: ConversationKey) -> sa.Select[Any]:
    ws, conv = key
    return (
        sa.select(deliveries_t.c.due_at)
        .where(
            deliveries_t.c.workspace_id == ws,
            deliveries_t.c.conversation_id == conv,
            deliveries_t.c.state == PENDING,
        )
        .order_by(deliveries_t.c.part_created_at, deliveries_t.c.part_seq, deliveries_t.c.id)
        .limit(1)
    )


def is_conversation(key: ConversationKey) -> sa.ColumnElement[bool]:
    return sa.and_(conv_t.c.workspace_id == key[0], conv_t.c.conversation_id == key[1])


async def refresh_due(
    conn: AsyncConnection,
    keys: Iterable[ConversationKey],
    *,
    not_before: float | None = None,
    release_owner: str | None = None,
) -> None:
    """Set each conversation's `due_at` to the due time of its first pending delivery.

    The rows are locked first (sorted: no deadlock between two callers) and the deliveries
    read after, so the read sees every transaction that held a lock before (see the module
    doc). `not_before` postpones the conversations (e.g. while an earlier part is still being
    planned); `release_owner` also drops that worker's leases. A few statements whatever the
    number of conversations, so that planning a burst holds the SQLite write lock briefly.
    """
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), _KEYS_PER_STATEMENT):
        await _refresh_chunk(
            conn, ordered[start : start + _KEYS_PER_STATEMENT], not_before, release_owner
        )


_KEYS_PER_STATEMENT = 200


async def _refresh_chunk(
    conn: AsyncConnection,
    keys: list[ConversationKey],
    not_before: float | None,
    release_owner: str | None,
) -> None:
    if not keys:
        return
    await conn.execute(
        insert_ignore(conn, conv_t),
        [{"workspace_id": ws, "conversation_id": conv} for ws, conv in keys],
    )
    conv_key = sa.tuple_(conv_t.c.workspace_id, conv_t.c.conversation_id)
    await conn.execute(
        lock_rows(
            conn,
            sa.select(conv_t.c.workspace_id)
            .where(conv_key.in_(keys))
            .order_by(conv_t.c.workspace_id, conv_t.c.conversation_id),
        )
    )
    d = deliveries_t
    ranked = (
        sa.select(
            d.c.workspace_id,
            d.c.conversation_id,
            d.c.due_at,
            sa.func.row_number()
            .over(
                partition_by=(d.c.workspace_id, d.c.conversation_id),
                order_by=(d.c.part_created_at, d.c.part_seq, d.c.id),
            )
            .label("rank"),
        )
        .where(d.c.state == PENDING, sa.tuple_(d.c.workspace_id, d.c.conversation_id).in_(keys))
        .subquery()
    )
    heads = {
        (r.workspace_id, r.conversation_id): float(r.due_at)
        for r in (
            await conn.execute(
                sa.select(ranked.c.workspace_id, ranked.c.conversation_id, ranked.c.due_at).where(
                    ranked.c.rank == 1
                )
            )
        ).all()
    }
    values = []
    for ws, conv in keys:
        head = heads.get((ws, conv))
        due = None if head is None else max(head, not_before or 0.0)
        values.append({"k_ws": ws, "k_conv": conv, "due": due})
    if release_owner is not None:
        await conn.execute(
            sa.update(conv_t)
            .where(conv_key.in_(keys), conv_t.c.lease_owner == release_owner)
            .values(lease_owner=None, lease_until=None)
        )
    await conn.execute(_SET_DUE, values)


_SET_DUE = (
    sa.update(conv_t)
    .where(
        conv_t.c.workspace_id == sa.bindparam("k_ws"),
        conv_t.c.conversation_id == sa.bindparam("k_conv"),
    )
    .values(due_at=sa.bindparam("due"))
)


async def mark_done_rows(conn: AsyncConnection, finished: Sequence[Delivery]) -> None:
    t = now()
    for delivery in finished:
        await conn.execute(
            sa.update(deliveries_t)
            .where(deliveries_t.c.id == delivery.id)
            .values(
                state=DONE,
                finished_at=t,
                started_at=None,
                step=None,
                last_error=None,
                progress=dict(delivery.progress) or None,
            )
        )
