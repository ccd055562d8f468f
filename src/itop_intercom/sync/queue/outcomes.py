"""Recording what happened to deliveries: steps started (the fence), progress, done, dead,
retries, and the replay of dead deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

import itop_intercom.sync.queue.planning as planning
from itop_intercom.store.database import Database
from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.store.tables import sync_conversations as conv_t
from itop_intercom.sync.dbutil import now, revive_dead
from itop_intercom.sync.queue.model import DEAD, PENDING, Delivery
from itop_intercom.sync.queue.planning import is_conversation, refresh_due


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
        await planning.mark_done_rows(conn, finished)
        t = now()
        fenced = await conn.execute(
            sa.update(conv_t)
            .where(is_conversation(delivery.key), conv_t.c.lease_owner == owner)
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
        await planning.mark_done_rows(conn, finished)
        await conn.execute(
            sa.update(deliveries_t)
            .where(deliveries_t.c.id == delivery.id)
            .values(progress=dict(delivery.progress), started_at=None, step=None)
        )
    delivery.started_at, delivery.step = None, None


async def mark_done(db: Database, finished: Sequence[Delivery]) -> None:
    if finished:
        async with db.write_transaction() as conn:
            await planning.mark_done_rows(conn, finished)


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
    values = {"state": DEAD, "finished_at": now(), "last_error": reason[:2000]}
    await _record_failure(db, delivery, values, written=written, finished=finished)


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
    values = {"due_at": due_at, "last_error": reason[:2000], "waiting_outage": outage}
    await _record_failure(db, delivery, values, written=written, finished=finished)
    delivery.due_at = due_at


async def _record_failure(
    db: Database,
    delivery: Delivery,
    values: dict[str, Any],
    *,
    written: bool | None,
    finished: Sequence[Delivery],
) -> None:
    """Record a failed attempt, with the deliveries finished before it. When the last write
    certainly did not happen (`written=False`), its mark goes: the next attempt writes without
    checking iTop first."""
    if written is False:
        values = {**values, "started_at": None, "step": None}
    async with db.write_transaction() as conn:
        await planning.mark_done_rows(conn, finished)
        await conn.execute(
            sa.update(deliveries_t).where(deliveries_t.c.id == delivery.id).values(**values)
        )


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


# -- administration (`events replay`) ---------------------------------------------------------


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
    t = now()
    async with db.write_transaction() as conn:
        result = await revive_dead(
            conn,
            d,
            ids,
            all_dead=all_dead,
            values={
                "attempts": 0,
                "due_at": t,
                "age_from": t,
                "finished_at": None,
                "last_error": None,
            },
            columns=(d.c.workspace_id, d.c.conversation_id),
        )
        found = result.found
        keys = {(found[i].workspace_id, found[i].conversation_id) for i in result.revived}
        await refresh_due(conn, keys)
    return ReplayResult(result.revived, result.not_found, result.not_dead)
