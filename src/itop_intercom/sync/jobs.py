"""A small durable job runner, run by the same workers as the sync.

For work that must survive a restart and be retried, but is not a conversation part: e.g.
posting the Intercom reply after a ticket was created from the Inbox (the screen must answer
at once; Intercom may be slow or down).

    async def post_reply(services: Services, payload: dict[str, Any]) -> None:
        ...  # raise jobs.PermanentJobError("why") to give up; any other error is retried

    job_id = await jobs.enqueue(services.db, "intercom.reply", {"conversation": "123"})

Semantics: a job runs in one worker at a time (leased like conversations), is retried with
exponential backoff and jitter after a transient failure (classified as for the sync: iTop and
Intercom outages, rate limits, setup problems), and is marked dead after a permanent failure or
once older than `sync.max_age_hours`. A worker that dies while running a job leaves it to be run
again after the lease: handlers must be idempotent, or check before acting. Payloads are JSON.
Handlers are listed in the job-handler table that the composition root (`runtime`) gives every
service instance (`Services.job_handlers`), so `serve` and `worker` run the same ones; a job
whose kind has no handler in this process is retried later (another version of the service may
know it).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from itop_intercom.logs import get_logger
from itop_intercom.store.database import Database
from itop_intercom.store.tables import jobs as jobs_t
from itop_intercom.sync.dbutil import now, revive_dead, skip_locked
from itop_intercom.sync.failures import backoff, classify, past_max_age

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.jobs")

#: Runs the jobs of one kind (`Services.job_handlers` maps kinds to these).
JobHandler = Callable[["Services", dict[str, Any]], Awaitable[None]]


class PermanentJobError(Exception):
    """Raised by a handler: this job can never succeed; mark it dead with this reason."""


async def enqueue(
    db: Database, kind: str, payload: dict[str, Any], *, delay_seconds: float = 0.0
) -> int:
    """Store a job, due after `delay_seconds`; return its id. Commits before returning."""
    if not kind or len(kind) > 64:
        raise ValueError("a job kind is 1 to 64 characters")
    json.dumps(payload)  # refuse what the JSON column could not store, here, not in the worker
    t = now()
    async with db.write_transaction() as conn:
        result = await conn.execute(
            sa.insert(jobs_t)
            .values(
                kind=kind,
                payload=payload,
                state="pending",
                attempts=0,
                due_at=t + max(0.0, delay_seconds),
                age_from=t,
                created_at=datetime.now(UTC),
            )
            .returning(jobs_t.c.id)
        )
        job_id = int(result.scalar_one())
    db.wakeups.notify()
    return job_id


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    age_from: float


async def claim(db: Database, owner: str, limit: int, lease_seconds: float) -> list[ClaimedJob]:
    if limit <= 0:
        return []
    claimed = []
    async with db.write_transaction() as conn:
        t = now()
        free = sa.or_(jobs_t.c.lease_until.is_(None), jobs_t.c.lease_until < t)
        query = (
            sa.select(jobs_t)
            .where(jobs_t.c.state == "pending", jobs_t.c.due_at <= t, free)
            .order_by(jobs_t.c.due_at)
            .limit(limit)
        )
        for row in (await conn.execute(skip_locked(conn, query))).all():
            result = await conn.execute(
                sa.update(jobs_t)
                .where(jobs_t.c.id == row.id, jobs_t.c.state == "pending", free)
                .values(
                    lease_owner=owner,
                    lease_until=t + lease_seconds,
                    attempts=jobs_t.c.attempts + 1,
                )
            )
            if result.rowcount == 1:
                claimed.append(
                    ClaimedJob(
                        row.id, row.kind, dict(row.payload or {}), row.attempts + 1, row.age_from
                    )
                )
    return claimed


async def run(services: Services, job: ClaimedJob, owner: str) -> str:
    """Run one claimed job and record the outcome: `done`, `retry` or `dead`."""
    sync = services.settings.sync
    handler = services.job_handlers.get(job.kind)
    try:
        if handler is None:
            raise _NoHandler(f"no handler for job kind {job.kind!r} in this process")
        await handler(services, dict(job.payload))
    except PermanentJobError as exc:
        await _finish(services.db, job, owner, "dead", str(exc) or "permanent failure")
        log.warning("job failed for good", job=job.id, kind=job.kind, reason=str(exc))
        return "dead"
    except Exception as exc:
        failure = past_max_age(classify(exc), job.age_from, sync.max_age_hours, now())
        reason = failure.reason
        if not failure.transient:
            await _finish(services.db, job, owner, "dead", reason)
            log.warning("job failed for good", job=job.id, kind=job.kind, reason=reason)
            return "dead"
        due = now() + backoff(job.attempts, sync.retry_base_seconds, sync.retry_max_seconds)
        async with services.db.write_transaction() as conn:
            await conn.execute(
                sa.update(jobs_t)
                .where(jobs_t.c.id == job.id, jobs_t.c.lease_owner == owner)
                .values(due_at=due, last_error=reason[:2000], lease_owner=None, lease_until=None)
            )
        log.info("job will be retried", job=job.id, kind=job.kind, reason=reason)
        return "retry"
    await _finish(services.db, job, owner, "done", None)
    return "done"


class _NoHandler(Exception):
    transient = True


async def _finish(
    db: Database, job: ClaimedJob, owner: str, state: str, reason: str | None
) -> None:
    async with db.write_transaction() as conn:
        await conn.execute(
            sa.update(jobs_t)
            .where(jobs_t.c.id == job.id)
            .values(
                state=state,
                last_error=reason[:2000] if reason else None,
                finished_at=datetime.now(UTC),
                lease_owner=None,
                lease_until=None,
            )
        )


# -- administration (`events replay --jobs`) ----------------------------------------------------


async def replay(
    db: Database, ids: list[int], *, all_dead: bool = False
) -> tuple[list[int], list[int], list[tuple[int, str]]]:
    """Make dead jobs pending again with a fresh maximum age: (replayed, not found, not dead)."""
    t = now()
    fresh = {"attempts": 0, "due_at": t, "age_from": t, "last_error": None, "finished_at": None}
    async with db.write_transaction() as conn:
        result = await revive_dead(conn, jobs_t, ids, all_dead=all_dead, values=fresh)
    if result.revived:
        db.wakeups.notify()
    return result.revived, result.not_found, result.not_dead
