"""The back-sync's outbox as operators see it: lag, counts, `events list --outbound` and
`events replay --outbound`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from itop_intercom.store.database import Database
from itop_intercom.store.tables import backsync_outbox as outbox_t
from itop_intercom.sync.back import outbox
from itop_intercom.sync.dbutil import now


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
    wanted = list(ids)
    async with db.write_transaction() as conn:
        query = sa.select(
            outbox_t.c.id, outbox_t.c.state, outbox_t.c.workspace_id, outbox_t.c.conversation_id
        )
        query = (
            query.where(outbox_t.c.state == "dead")
            if all_dead
            else query.where(outbox_t.c.id.in_(wanted))
        )
        found = {int(r.id): r for r in (await conn.execute(query)).all()}
        targets = sorted(i for i, r in found.items() if r.state == "dead")
        t = now()
        if targets:
            await conn.execute(
                sa.update(outbox_t)
                .where(outbox_t.c.id.in_(targets), outbox_t.c.state == "dead")
                .values(
                    state="pending",
                    due_at=t,
                    age_from=t,
                    attempts=0,
                    last_error=None,
                    finished_at=None,
                    # It may have been posted before it died: look before posting again.
                    started_at=t,
                )
            )
            for ws, conv in sorted(
                {(found[i].workspace_id, found[i].conversation_id) for i in targets}
            ):
                await outbox.schedule(conn, ws, conv, t)
    not_found = [] if all_dead else [i for i in wanted if i not in found]
    not_dead = [(i, str(r.state)) for i, r in found.items() if r.state != "dead"]
    return targets, not_found, not_dead
