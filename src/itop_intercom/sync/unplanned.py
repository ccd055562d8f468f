"""Parts received but not planned yet: what `events list` shows before any delivery exists.

An event (a delivery) exists only once the planner has read which tickets have sync on, which
needs iTop. While iTop is down, or for the settle delay after a part arrives, parts wait with
`plan = 'new'` and no event: an operator who lists the events must still see them, or a queue of
hundreds of parts looks like "nothing to do". Only parts that have something to write
(`log` set) are shown: bot replies and empty events are stored for inspection but never wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from itop_intercom.store.database import Database
from itop_intercom.store.tables import conversation_parts as parts_t

#: What `events list` calls the state of such a part.
UNPLANNED = "unplanned"


@dataclass(frozen=True)
class UnplannedPart:
    row_id: int
    workspace_id: str
    conversation_id: str
    part_id: str
    topic: str
    log: str
    received_at: datetime


async def list_unplanned(
    db: Database, *, conversation_id: str | None = None, limit: int = 50
) -> tuple[list[UnplannedPart], int]:
    """The newest `limit` parts waiting to be planned, and how many wait in all."""
    p = parts_t
    waiting = sa.and_(p.c.plan == "new", p.c.log.is_not(None))
    if conversation_id is not None:
        waiting = sa.and_(waiting, p.c.conversation_id == conversation_id)
    query = (
        sa.select(
            p.c.id,
            p.c.workspace_id,
            p.c.conversation_id,
            p.c.part_id,
            p.c.topic,
            p.c.log,
            p.c.received_at,
        )
        .where(waiting)
        .order_by(p.c.id.desc())
        .limit(limit)
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
        total = int((await conn.execute(sa.select(sa.func.count()).where(waiting))).scalar_one())
    parts = [
        UnplannedPart(
            row_id=int(r.id),
            workspace_id=r.workspace_id,
            conversation_id=r.conversation_id,
            part_id=r.part_id,
            topic=r.topic,
            log=r.log,
            received_at=_aware(r.received_at),
        )
        for r in rows
    ]
    return parts, total


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
