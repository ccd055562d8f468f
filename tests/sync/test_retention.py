"""Retention: what the purge deletes, what it keeps, `db purge`, and the database gauges."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.runtime import Services
from itop_intercom.settings.retention import RetentionSettings
from itop_intercom.store.tables import backsync_outbox, conversation_parts, deliveries, jobs
from itop_intercom.sync import retention
from itop_intercom.sync.retention import BATCH_TARGET_SECONDS, MIN_BATCH, next_batch_size, purge
from tests.conftest import WORKSPACE

NOW = 1_800_000_000.0
DAY = 86400.0


def ago(days: float) -> float:
    return NOW - days * DAY


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def add_part(
    engine: AsyncEngine,
    part_id: str,
    received_days_ago: float,
    plan: str,
    *targets: tuple[str, float | None],
) -> int:
    """A part and one delivery per (state, finished so many days ago) target."""
    async with engine.begin() as conn:
        result: Any = await conn.execute(
            sa.insert(conversation_parts).values(
                workspace_id=WORKSPACE,
                conversation_id="c1",
                part_id=part_id,
                topic="conversation.user.replied",
                part_type="comment",
                attachments=[],
                part_created_at=int(ago(received_days_ago)),
                received_at=at(ago(received_days_ago)),
                plan=plan,
            )
        )
        row_id = int(result.inserted_primary_key[0])
        for ticket_id, (state, finished_days_ago) in enumerate(targets, start=1):
            await conn.execute(
                sa.insert(deliveries).values(
                    part_row_id=row_id,
                    workspace_id=WORKSPACE,
                    conversation_id="c1",
                    part_created_at=int(ago(received_days_ago)),
                    part_seq=0,
                    ticket_class="UserRequest",
                    ticket_id=ticket_id,
                    origin="webhook",
                    state=state,
                    attempts=1,
                    due_at=ago(received_days_ago),
                    age_from=ago(received_days_ago),
                    created_at=ago(received_days_ago),
                    finished_at=None if finished_days_ago is None else ago(finished_days_ago),
                )
            )
    return row_id


async def add_job(engine: AsyncEngine, state: str, finished_days_ago: float | None) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(jobs).values(
                kind="reply",
                payload={},
                state=state,
                created_at=at(ago(200)),
                finished_at=None if finished_days_ago is None else at(ago(finished_days_ago)),
            )
        )


async def add_post(
    engine: AsyncEngine, op_id: int, state: str, finished_days_ago: float | None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(backsync_outbox).values(
                op_id=op_id,
                kind="reply",
                workspace_id=WORKSPACE,
                conversation_id="c1",
                ticket_class="UserRequest",
                ticket_id=1,
                payload={},
                changed_at=ago(200),
                state=state,
                due_at=ago(200),
                age_from=ago(200),
                created_at=ago(200),
                finished_at=None if finished_days_ago is None else ago(finished_days_ago),
            )
        )


async def remaining(engine: AsyncEngine) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    async with engine.connect() as conn:
        parts = (await conn.execute(sa.select(conversation_parts.c.part_id))).scalars().all()
        rows = await conn.execute(
            sa.select(conversation_parts.c.part_id, deliveries.c.state).join(
                conversation_parts, conversation_parts.c.id == deliveries.c.part_row_id
            )
        )
        kept = sorted((str(p), str(state)) for p, state in rows.all())
        job_states = (await conn.execute(sa.select(jobs.c.state))).scalars().all()
    return sorted(map(str, parts)), kept, sorted(map(str, job_states))


async def seed(engine: AsyncEngine) -> None:
    await add_part(engine, "old-done", 40, "planned", ("done", 40))
    await add_part(engine, "recently-done", 40, "planned", ("done", 10))
    await add_part(engine, "old-dead", 100, "planned", ("dead", 100))
    await add_part(engine, "dead-in-retention", 100, "planned", ("dead", 50))
    await add_part(engine, "never-planned", 40, "new")
    await add_part(engine, "old-unlinked", 40, "unlinked")
    await add_part(engine, "young-unlinked", 5, "unlinked")
    await add_part(engine, "still-pending", 40, "planned", ("done", 40), ("pending", None))
    await add_job(engine, "done", 40)
    await add_job(engine, "done", 5)
    await add_job(engine, "dead", 100)
    await add_job(engine, "dead", 50)
    await add_job(engine, "pending", None)
    await add_post(engine, 1, "done", 40)
    await add_post(engine, 2, "done", 5)
    await add_post(engine, 3, "dead", 100)
    await add_post(engine, 4, "pending", None)


EXPECTED_PARTS = [
    "dead-in-retention",
    "never-planned",
    "recently-done",
    "still-pending",
    "young-unlinked",
]


async def test_purge_deletes_only_what_is_past_retention(services: Services) -> None:
    engine = services.engine
    await seed(engine)
    settings = RetentionSettings(batch_size=2, pause_seconds=0)

    dry = await purge(services.db, settings, dry_run=True, when=NOW)
    before = await remaining(engine)
    assert len(before[0]) == 8 and len(before[2]) == 5  # nothing deleted by a dry run

    report = await purge(services.db, settings, when=NOW)
    expected = [
        ("done deliveries", 2),  # old-done, and the done one of still-pending
        ("dead deliveries", 1),
        ("stored parts", 3),  # old-done, old-dead, old-unlinked
        ("done jobs", 1),
        ("dead jobs", 1),
        ("done posts", 1),
        ("dead posts", 1),
    ]
    assert report.lines() == expected
    assert dry.lines() == expected
    assert report.batches >= 5  # batches of 2 rows

    parts, kept_deliveries, job_states = await remaining(engine)
    assert parts == EXPECTED_PARTS
    assert kept_deliveries == [
        ("dead-in-retention", "dead"),
        ("recently-done", "done"),
        ("still-pending", "pending"),
    ]
    assert job_states == ["dead", "done", "pending"]
    async with engine.connect() as conn:
        posts = (await conn.execute(sa.select(backsync_outbox.c.op_id))).scalars().all()
    assert sorted(posts) == [2, 4]

    again = await purge(services.db, settings, when=NOW)
    assert again.total == 0


async def test_purge_stops_between_batches_when_asked(services: Services) -> None:
    for i in range(5):
        await add_part(services.engine, f"p{i}", 40, "planned", ("done", 40))
    stop = asyncio.Event()
    stop.set()
    report = await purge(services.db, RetentionSettings(batch_size=1), when=NOW, stop=stop)
    assert report.total == 0


def test_batches_are_sized_by_the_time_they_hold_the_database() -> None:
    target = BATCH_TARGET_SECONDS
    # A batch that took four times the target: the next one is a quarter as large.
    assert next_batch_size(400, 4 * target, 500) == 100
    # A fast batch: at most twice as large next time (one fast batch may be luck) ...
    assert next_batch_size(100, target / 10, 500) == 200
    # ... and never more than `batch_size`, nor fewer than MIN_BATCH rows however slow.
    assert next_batch_size(400, target / 10, 500) == 500
    assert next_batch_size(100, 1000 * target, 500) == MIN_BATCH
    # A `batch_size` below MIN_BATCH is obeyed.
    assert next_batch_size(2, 1000 * target, 2) == 2


async def test_a_slow_sqlite_gets_smaller_batches_and_everything_still_goes(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 6 * MIN_BATCH + 5  # more than the first, measuring batch (4 * MIN_BATCH)
    for i in range(count):
        await add_part(services.engine, f"p{i}", 40, "planned", ("done", 40))
    # Every batch "takes" ten times the target: the purge falls to its smallest batches.
    ticks = iter(range(10**6))
    monkeypatch.setattr(retention, "now", lambda: next(ticks) * 5 * BATCH_TARGET_SECONDS)
    report = await purge(services.db, RetentionSettings(batch_size=500, pause_seconds=0), when=NOW)
    assert (report.done_deliveries, report.parts) == (count, count)
    if services.db.is_sqlite:
        # Per table: the first batch, then MIN_BATCH-sized ones (2 full, 1 partial).
        assert report.batches >= 2 * 4
    else:
        # No gate to hold: one batch of up to `batch_size` rows per kind of row (seven kinds).
        assert report.batches == 7
