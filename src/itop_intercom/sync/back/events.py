"""The back-sync's outbox as operators see it: lag, counts, `events list --outbound` and
`events replay --outbound`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from itop_intercom.store.database import Database
from itop_intercom.store.tables import backsync_outbox as outbox_t
from itop_intercom.sync.back import outbox
from itop_intercom.sync.dbutil import now, revive_dead


async def oldest_pending(db: Database) -> float | None:
    """When the oldest change not yet posted happened (epoch seconds), for the lag metric."""
    query = sa.select(sa.func.min(outbox_t.c.changed_at)).where(outbox_t.c.state == "pending")
    async with db.engine.connect() as conn:
        value = (await conn.execute(query)).scalar_one_or_none()
    return None if value is None else float(value)


async def counts(db: Database) -> dict[str, int]:
    query = sa.select(outbox_t.c.state, sa.func.count()).group_by(outbox_t.c.state)
    async with db.engine.connect() as conn:
        return {str(s): int(n) for s, n in (await conn.execute(query)).all()}


@dataclass(frozen=True)
class OutboxListing:
    id: int
    state: str
    kind: str
    conversation_id: str
    ticket: str
    op_id: int
    attempts: int
    created_at: float
    last_error: str | None


async def list_rows(
    db: Database,
    *,
    state: str | None = None,
    conversation_id: str | None = None,
    limit: int = 50,
) -> list[OutboxListing]:
    query = sa.select(outbox_t)
    if state is not None:
        query = query.where(outbox_t.c.state == state)
    if conversation_id is not None:
        query = query.where(outbox_t.c.conversation_id == conversation_id)
    query = query.order_by(outbox_t.c.id.desc()).limit(limit)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        OutboxListing(
            int(r.id),
            r.state,
            r.kind,
            r.conversation_id,
            f"{r.ticket_class}::{r.ticket_id}",
            int(r.op_id),
            int(r.attempts),
            float(r.created_at),
            r.last_error,
        )
        for r in rows
    ]


async def replay(
    db: Database, ids: Iterable[int], *, all_dead: bool = False
) -> tuple[list[int], list[int], list[tuple[int, str]]]:
    """Dead rows become pending again (a fresh maximum age): (replayed, not found, not dead).
    A replayed post is still checked against the conversation before it is sent again."""
    t = now()
    fresh = {
        "due_at": t,
        "age_from": t,
        "attempts": 0,
        "last_error": None,
        "finished_at": None,
        # It may have been posted before it died: look before posting again.
        "started_at": t,
    }
    async with db.write_transaction() as conn:
        result = await revive_dead(
            conn,
            outbox_t,
            list(ids),
            all_dead=all_dead,
            values=fresh,
            columns=(outbox_t.c.workspace_id, outbox_t.c.conversation_id),
        )
        rows = result.found
        for ws, conv in sorted(
            {(rows[i].workspace_id, rows[i].conversation_id) for i in result.revived}
        ):
            await outbox.schedule(conn, ws, conv, t)
    return result.revived, result.not_found, result.not_dead
