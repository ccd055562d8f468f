"""The delivery queue in the database: planning, leasing conversations, recording outcomes.

Unit of work: a *delivery* = (part, ticket). Its states: `pending` → `done`, or `dead` (given
up, with the reason; `replay` makes it pending again).

Concurrency rules, so that several `serve`/`worker` processes can share one PostgreSQL:
- A conversation is worked on by the holder of its lease only (`sync_conversations`). Claiming
  is a compare-and-set on the lease (`lease_until < now`), preceded on PostgreSQL by
  `FOR UPDATE SKIP LOCKED` so that workers do not queue up behind each other's row locks.
- Before every iTop write the worker *fences*: it renews its lease in the same transaction that
  records "step started"; a worker that lost its lease (it stalled longer than the lease and
  someone took over) finds out there and writes nothing.
- `sync_conversations.due_at` is always recomputed from the deliveries, under the row's lock
  (`refresh_due`), by whoever changed them: a planner adding deliveries and a worker releasing
  the conversation cannot overwrite each other's view (the second waits for the first's commit,
  then reads it).
- Lock order is the same in every transaction (parts → deliveries → sync_conversations, and
  conversations sorted by key), so transactions do not deadlock each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from itop_intercom.store.database import Database
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.store.tables import jobs as jobs_t
from itop_intercom.store.tables import sync_conversations as conv_t
from itop_intercom.sync.dbutil import insert_ignore, lock_rows, now, skip_locked

ConversationKey = tuple[str, str]

PENDING = "pending"
DONE = "done"
DEAD = "dead"
STATES = (PENDING, DONE, DEAD)


@dataclass(frozen=True)
class PartRef:
    """What planning needs to know of a stored part."""

    row_id: int
    workspace_id: str
    conversation_id: str
    part_id: str
    part_created_at: int
    part_seq: int

    @property
    def key(self) -> ConversationKey:
        return (self.workspace_id, self.conversation_id)


@dataclass
class Delivery:
    """A pending delivery with everything needed to apply it (delivery + part columns)."""

    id: int
    part_row_id: int
    workspace_id: str
    conversation_id: str
    ticket_class: str
    ticket_id: int
    origin: str
    attempts: int
    due_at: float
    age_from: float
    started_at: float | None
    step: str | None
    progress: dict[str, Any]
    part_id: str
    part_type: str
    topic: str
    log: str | None
    author_type: str | None
    author_name: str | None
    author_email: str | None
    body: str | None
    attachments: list[dict[str, Any]]
    part_created_at: int
    received_at: datetime

    @property
    def key(self) -> ConversationKey:
        return (self.workspace_id, self.conversation_id)


@dataclass(frozen=True)
class Claim:
    key: ConversationKey
    taken_over: bool
    """The previous holder's lease expired (it died or stalled): check iTop before writing."""


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


def _is(key: ConversationKey) -> sa.ColumnElement[bool]:
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
                .where(_is(key), free)
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
        await _mark_done_rows(conn, finished)
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


# -- recording what happened -------------------------------------------------------------------


async def start_step(
    db: Database,
    delivery: Delivery,
    owner: str,
    lease_seconds: float,
    step: str,
    *,
    finished: Sequence[Delivery] = (),
) -> bool:
    """Fence and record "this iTop write is about to be sent". False: the lease is lost.

    `finished`: deliveries of the same conversation whose last write succeeded since the last
    transaction; they are recorded done here, so that applying a part costs one transaction,
    not two (until then they are "started", which a recovery checks: never wrong, only
    slower)."""
    async with db.write_transaction() as conn:
        await _mark_done_rows(conn, finished)
        t = now()
        fenced = await conn.execute(
            sa.update(conv_t)
            .where(_is(delivery.key), conv_t.c.lease_owner == owner)
            .values(lease_until=t + lease_seconds)
        )
        if fenced.rowcount != 1:
            return False
        await conn.execute(
            sa.update(deliveries_t)
            .where(deliveries_t.c.id == delivery.id, deliveries_t.c.state == PENDING)
            .values(started_at=t, step=step, attempts=deliveries_t.c.attempts + 1)
        )
    delivery.started_at, delivery.step = t, step
    delivery.attempts += 1
    return True


async def save_progress(
    db: Database, delivery: Delivery, *, finished: Sequence[Delivery] = ()
) -> None:
    """A step's outcome is known (e.g. an attachment was created): record it, clear the mark."""
    async with db.write_transaction() as conn:
        await _mark_done_rows(conn, finished)
        await conn.execute(
            sa.update(deliveries_t)
            .where(deliveries_t.c.id == delivery.id)
            .values(progress=dict(delivery.progress), started_at=None, step=None)
        )
    delivery.started_at, delivery.step = None, None


async def mark_done(db: Database, finished: Sequence[Delivery]) -> None:
    if finished:
        async with db.write_transaction() as conn:
            await _mark_done_rows(conn, finished)


async def _mark_done_rows(conn: AsyncConnection, finished: Sequence[Delivery]) -> None:
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


async def mark_dead(
    db: Database,
    delivery: Delivery,
    reason: str,
    *,
    written: bool | None,
    finished: Sequence[Delivery] = (),
) -> None:
    """Give up. `written=False` says the last write certainly did not happen (clears the mark,
    so a replay writes without checking iTop first)."""
    values: dict[str, Any] = {"state": DEAD, "finished_at": now(), "last_error": reason[:2000]}
    if written is False:
        values.update(started_at=None, step=None)
    async with db.write_transaction() as conn:
        await _mark_done_rows(conn, finished)
        await conn.execute(
            sa.update(deliveries_t).where(deliveries_t.c.id == delivery.id).values(**values)
        )


async def schedule_retry(
    db: Database,
    delivery: Delivery,
    due_at: float,
    reason: str,
    *,
    written: bool | None,
    outage: bool = False,
    finished: Sequence[Delivery] = (),
) -> None:
    values: dict[str, Any] = {
        "due_at": due_at,
        "last_error": reason[:2000],
        "waiting_outage": outage,
    }
    if written is False:
        values.update(started_at=None, step=None)
    async with db.write_transaction() as conn:
        await _mark_done_rows(conn, finished)
        await conn.execute(
            sa.update(deliveries_t).where(deliveries_t.c.id == delivery.id).values(**values)
        )
    delivery.due_at = due_at


async def wake_retries(db: Database) -> int:
    """iTop is back: every delivery that failed because it was down becomes due now (other
    failures keep their backoff)."""
    d = deliveries_t
    waiting = sa.and_(d.c.state == PENDING, d.c.waiting_outage.is_(True))
    async with db.write_transaction() as conn:
        keys = {
            (r.workspace_id, r.conversation_id)
            for r in (
                await conn.execute(
                    sa.select(d.c.workspace_id, d.c.conversation_id).where(waiting).distinct()
                )
            ).all()
        }
        result = await conn.execute(
            sa.update(d)
            .where(waiting)
            .values(
                due_at=sa.func.least(d.c.due_at, now())
                if conn.dialect.name == "postgresql"
                else sa.func.min(d.c.due_at, now()),
                waiting_outage=False,
            )
        )
        await refresh_due(conn, keys)
    return int(result.rowcount or 0)


# -- administration (events CLI) and gauges ----------------------------------------------------


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
        from datetime import UTC

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
class ReplayResult:
    replayed: list[int]
    not_found: list[int]
    not_dead: list[tuple[int, str]]


async def replay(db: Database, ids: Sequence[int] = (), *, all_dead: bool = False) -> ReplayResult:
    """Make dead deliveries pending again, due now, with a fresh maximum age.

    A delivery whose last write may have reached iTop keeps its mark, so the replay checks the
    ticket's log before writing: replaying never duplicates an entry.
    """
    d = deliveries_t
    async with db.write_transaction() as conn:
        query = sa.select(d.c.id, d.c.state, d.c.workspace_id, d.c.conversation_id)
        query = query.where(d.c.state == DEAD) if all_dead else query.where(d.c.id.in_(ids))
        found = {r.id: r for r in (await conn.execute(query)).all()}
        not_found = [i for i in ids if i not in found] if not all_dead else []
        not_dead = [(i, r.state) for i, r in found.items() if r.state != DEAD]
        targets = sorted(i for i, r in found.items() if r.state == DEAD)
        t = now()
        for chunk_start in range(0, len(targets), 500):
            chunk = targets[chunk_start : chunk_start + 500]
            await conn.execute(
                sa.update(d)
                .where(d.c.id.in_(chunk), d.c.state == DEAD)
                .values(
                    state=PENDING,
                    attempts=0,
                    due_at=t,
                    age_from=t,
                    finished_at=None,
                    last_error=None,
                )
            )
        keys = {(found[i].workspace_id, found[i].conversation_id) for i in targets}
        await refresh_due(conn, keys)
    return ReplayResult(targets, not_found, not_dead)
