"""Retention: delete what the sync no longer needs, in small batches that never block intake.

What goes, with the default settings:
- done deliveries 30 days after they were applied (`retention.done_days`);
- dead deliveries 90 days after they died (`retention.dead_days`); a replayed one is pending
  again, so it stays until it is done or dead again and old enough;
- stored parts received longer ago than `done_days` once none of their deliveries is left (a
  part still waiting, or a dead delivery inside its retention, keeps its part); parts never
  planned yet (`plan = new`) are never deleted;
- finished jobs: done ones after `done_days`, dead ones after `dead_days`;
- back-sync posts (iTop → Intercom): the same (the change-history cursor has moved past them).

Each batch is one short transaction (through the SQLite write gate, like every other write of
the process), followed by a rest of `pause_seconds` or as long as the batch took, whichever is
longer, so that webhooks and the worker go on between batches. On SQLite a webhook that arrives
during a batch waits for it, so batches are sized by time, not only by rows: each aims at
`BATCH_TARGET_SECONDS`, with at most `batch_size` rows (the log the deletes fill on SQLite is
copied back by the worker's checkpoint task, not by a webhook's commit). The indexes of
migration 0003 make each batch a range scan. Several workers may purge at the same time: a row
deleted by one is just not counted by the other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.settings.retention import RetentionSettings
from itop_intercom.store.database import Database
from itop_intercom.store.tables import backsync_outbox as outbox_t
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.store.tables import jobs as jobs_t
from itop_intercom.sync.dbutil import now

DAY = 86400.0

#: How long one batch should hold the database (the write gate on SQLite): webhooks arriving
#: meanwhile wait that long at most, a few milliseconds against their 20 ms goal at the 99th
#: percentile.
BATCH_TARGET_SECONDS = 0.004

#: The fewest rows a batch deletes, however slow the database: the purge must still progress.
MIN_BATCH = 20


@dataclass(frozen=True)
class Cutoffs:
    """Rows finished before these times go (epoch seconds)."""

    done: float
    dead: float

    @classmethod
    def at(cls, settings: RetentionSettings, when: float) -> Cutoffs:
        return cls(done=when - settings.done_days * DAY, dead=when - settings.dead_days * DAY)

    @property
    def done_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.done, UTC)

    @property
    def dead_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.dead, UTC)


@dataclass
class PurgeReport:
    """Rows deleted (or, for a dry run, that would be), per kind."""

    done_deliveries: int = 0
    dead_deliveries: int = 0
    parts: int = 0
    done_jobs: int = 0
    dead_jobs: int = 0
    done_posts: int = 0
    dead_posts: int = 0
    seconds: float = 0.0
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(count for _, count in self.lines())

    def lines(self) -> list[tuple[str, int]]:
        return [
            ("done deliveries", self.done_deliveries),
            ("dead deliveries", self.dead_deliveries),
            ("stored parts", self.parts),
            ("done jobs", self.done_jobs),
            ("dead jobs", self.dead_jobs),
            ("done posts", self.done_posts),
            ("dead posts", self.dead_posts),
        ]


def _expired_deliveries(state: str, cutoff: float) -> sa.ColumnElement[bool]:
    return _expired(deliveries_t, state, cutoff)


def _expired(table: sa.Table, state: str, cutoff: float | datetime) -> sa.ColumnElement[bool]:
    c = table.c
    return sa.and_(c.state == state, c.finished_at.is_not(None), c.finished_at < cutoff)


def _expired_jobs(state: str, cutoff: datetime) -> sa.ColumnElement[bool]:
    return _expired(jobs_t, state, cutoff)


def _parts_expired(cutoffs: Cutoffs, *, after_deliveries: bool) -> sa.ColumnElement[bool]:
    """Parts old enough whose deliveries are all gone (or, for a dry run, would all go)."""
    p = parts_t.c
    d = deliveries_t.c
    remaining = d.part_row_id == p.id
    if after_deliveries:
        remaining = sa.and_(
            remaining,
            sa.not_(
                sa.or_(
                    _expired_deliveries("done", cutoffs.done),
                    _expired_deliveries("dead", cutoffs.dead),
                )
            ),
        )
    return sa.and_(
        p.received_at < cutoffs.done_datetime,
        p.plan != "new",
        ~sa.exists().where(remaining),
    )


async def _count(engine: AsyncEngine, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(where)
        return int((await conn.execute(query)).scalar_one())


async def _delete_batch(
    db: Database, table: sa.Table, where: sa.ColumnElement[bool], size: int
) -> tuple[int, float]:
    """Delete up to `size` rows; return how many, and how long the deletion took (the time
    waited for the write gate, spent by others, does not count)."""
    # No ORDER BY: any rows past retention will do, and sorting them all would turn each batch
    # into a scan of every candidate instead of a short walk of the index.
    ids = sa.select(table.c.id).where(where).limit(size).scalar_subquery()
    statement = sa.delete(table).where(table.c.id.in_(ids))

    def delete(conn: sa.Connection) -> tuple[int, float]:
        started = now()
        result: Any = conn.execute(statement)
        return int(result.rowcount or 0), now() - started

    if db.is_sqlite:
        # One trip to a thread with the gate held, not one per statement (see write_in_thread).
        return await db.write_in_thread(delete)
    async with db.write_transaction() as conn:  # PostgreSQL: no gate, deletes run beside the rest
        return await conn.run_sync(delete)


def next_batch_size(size: int, took: float, largest: int) -> int:
    """The size of the next batch, after one of `size` rows took `took` seconds: scaled towards
    `BATCH_TARGET_SECONDS`, at most doubled at a time (one fast batch may be luck), between
    `MIN_BATCH` and `largest` (`retention.batch_size`)."""
    scaled = size * BATCH_TARGET_SECONDS / max(took, 1e-6)
    return max(min(MIN_BATCH, largest), min(largest, 2 * size, int(scaled)))


async def _delete_all(
    db: Database,
    table: sa.Table,
    where: sa.ColumnElement[bool],
    settings: RetentionSettings,
    report: PurgeReport,
    stop: asyncio.Event | None,
) -> int:
    deleted = 0
    # SQLite: start small, the first batch measures the database (see next_batch_size).
    # PostgreSQL holds no gate: a batch delays nobody, `batch_size` rows it is.
    size = min(settings.batch_size, 4 * MIN_BATCH) if db.is_sqlite else settings.batch_size
    while stop is None or not stop.is_set():
        n, took = await _delete_batch(db, table, where, size)
        deleted += n
        report.batches += 1
        if n < size:
            break
        if db.is_sqlite:
            size = next_batch_size(size, took, settings.batch_size)
        # Rest at least as long as the batch held the database: on a busy (or slow) database
        # the purge never takes more than half of the writer's time, whatever the batch size.
        await asyncio.sleep(max(settings.pause_seconds, took))
    return deleted


async def purge(
    db: Database,
    settings: RetentionSettings,
    *,
    dry_run: bool = False,
    when: float | None = None,
    stop: asyncio.Event | None = None,
) -> PurgeReport:
    """Delete (or count, with `dry_run`) what is past retention at `when` (default: now).
    Stops between two batches when `stop` is set."""
    started = now()
    cutoffs = Cutoffs.at(settings, started if when is None else when)
    report = PurgeReport()
    steps: list[tuple[str, sa.Table, sa.ColumnElement[bool]]] = [
        ("done_deliveries", deliveries_t, _expired_deliveries("done", cutoffs.done)),
        ("dead_deliveries", deliveries_t, _expired_deliveries("dead", cutoffs.dead)),
        ("parts", parts_t, _parts_expired(cutoffs, after_deliveries=dry_run)),
        ("done_jobs", jobs_t, _expired_jobs("done", cutoffs.done_datetime)),
        ("dead_jobs", jobs_t, _expired_jobs("dead", cutoffs.dead_datetime)),
        ("done_posts", outbox_t, _expired(outbox_t, "done", cutoffs.done)),
        ("dead_posts", outbox_t, _expired(outbox_t, "dead", cutoffs.dead)),
    ]
    for name, table, where in steps:
        if dry_run:
            n = await _count(db.engine, table, where)
        else:
            n = await _delete_all(db, table, where, settings, report, stop)
        setattr(report, name, n)
    report.seconds = now() - started
    return report
