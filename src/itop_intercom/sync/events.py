"""What the `events` commands and the metrics read: queue figures, deliveries (events) with
their parts, and background jobs. Reads only; the queue itself (`queue`, `jobs`) changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from itop_intercom.store.database import Database
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.store.tables import jobs as jobs_t
from itop_intercom.sync.dbutil import now
from itop_intercom.sync.queue import DEAD, PENDING


@dataclass(frozen=True)
class QueueStats:
    pending: int
    unplanned: int
    oldest_pending_seconds: float
    dead: int
    jobs_pending: int
    jobs_dead: int


async def stats(db: Database) -> QueueStats:
    t = now()
    d = deliveries_t
    async with db.engine.connect() as conn:
        pending, oldest = (
            await conn.execute(
                sa.select(sa.func.count(), sa.func.min(d.c.age_from)).where(d.c.state == PENDING)
            )
        ).one()
        dead = (
            await conn.execute(sa.select(sa.func.count()).where(d.c.state == DEAD))
        ).scalar_one()
        unplanned, oldest_unplanned = (
            await conn.execute(
                sa.select(sa.func.count(), sa.func.min(parts_t.c.received_at)).where(
                    parts_t.c.plan == "new", parts_t.c.log.is_not(None)
                )
            )
        ).one()
        job_counts: dict[str, int] = dict(
            (
                await conn.execute(
                    sa.select(jobs_t.c.state, sa.func.count())
                    .where(jobs_t.c.state.in_([PENDING, DEAD]))
                    .group_by(jobs_t.c.state)
                )
            ).all()
        )
    ages = []
    if oldest is not None:
        ages.append(t - float(oldest))
    if oldest_unplanned is not None:
        ages.append(t - _epoch(oldest_unplanned))
    return QueueStats(
        pending=int(pending) + int(unplanned),
        unplanned=int(unplanned),
        oldest_pending_seconds=max([0.0, *ages]),
        dead=int(dead),
        jobs_pending=int(job_counts.get(PENDING, 0)),
        jobs_dead=int(job_counts.get(DEAD, 0)),
    )


def _epoch(value: datetime | str) -> float:
    if isinstance(value, str):  # SQLite without type information in an aggregate
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@dataclass(frozen=True)
class EventRow:
    id: int
    state: str
    workspace_id: str
    conversation_id: str
    part_id: str
    part_type: str
    topic: str
    log: str | None
    ticket_class: str
    ticket_id: int
    origin: str
    attempts: int
    due_at: float
    created_at: float
    finished_at: float | None
    last_error: str | None
    author_name: str | None
    author_email: str | None
    part_created_at: int
    started_at: float | None
    step: str | None
    progress: dict[str, Any] = field(default_factory=dict)
    body: str | None = None


def _event_query() -> sa.Select[Any]:
    d, p = deliveries_t, parts_t
    return sa.select(
        d.c.id,
        d.c.state,
        d.c.workspace_id,
        d.c.conversation_id,
        p.c.part_id,
        p.c.part_type,
        p.c.topic,
        p.c.log,
        d.c.ticket_class,
        d.c.ticket_id,
        d.c.origin,
        d.c.attempts,
        d.c.due_at,
        d.c.created_at,
        d.c.finished_at,
        d.c.last_error,
        p.c.author_name,
        p.c.author_email,
        d.c.part_created_at,
        d.c.started_at,
        d.c.step,
        d.c.progress,
        p.c.body,
    ).join(p, p.c.id == d.c.part_row_id)


def _event(row: Any) -> EventRow:
    values = dict(row._mapping)
    values["progress"] = dict(values["progress"] or {})
    return EventRow(**values)


async def list_events(
    db: Database,
    *,
    state: str | None = None,
    conversation_id: str | None = None,
    limit: int = 100,
) -> list[EventRow]:
    d = deliveries_t
    query = _event_query()
    if state is not None:
        query = query.where(d.c.state == state)
    if conversation_id is not None:
        query = query.where(d.c.conversation_id == conversation_id)
    query = query.order_by(d.c.id.desc()).limit(limit)
    async with db.engine.connect() as conn:
        return [_event(r) for r in (await conn.execute(query)).all()]


async def get_event(db: Database, event_id: int) -> EventRow | None:
    query = _event_query().where(deliveries_t.c.id == event_id)
    async with db.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return None if row is None else _event(row)


async def kept_parts(db: Database, conversation_id: str) -> int:
    """Parts of the conversation stored but not applied (no ticket had sync on)."""
    query = sa.select(sa.func.count()).where(
        parts_t.c.conversation_id == conversation_id, parts_t.c.plan == "unlinked"
    )
    async with db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    state: str
    attempts: int
    due_at: float
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


async def list_jobs(db: Database, *, state: str | None = None, limit: int = 50) -> list[JobRow]:
    query = sa.select(
        jobs_t.c.id,
        jobs_t.c.kind,
        jobs_t.c.state,
        jobs_t.c.attempts,
        jobs_t.c.due_at,
        jobs_t.c.last_error,
        jobs_t.c.created_at,
        jobs_t.c.finished_at,
    )
    if state is not None:
        query = query.where(jobs_t.c.state == state)
    query = query.order_by(jobs_t.c.id.desc()).limit(limit)
    async with db.engine.connect() as conn:
        return [JobRow(**dict(r._mapping)) for r in (await conn.execute(query)).all()]
