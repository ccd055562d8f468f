"""On SQLite the worker copies the write-ahead log back into the database every second, so that
the webhook commit that crosses SQLite's own threshold finds nearly nothing left to copy."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import messenger_nonces
from itop_intercom.sync.checkpoint_loop import checkpoint_loop
from tests.waiting import eventually


async def _write(services: Services, transactions: int) -> None:
    for _ in range(transactions):
        async with services.db.write_transaction() as conn:
            rows = [{"nonce": uuid.uuid4().hex, "expires_at": 2e9} for _ in range(20)]
            await conn.execute(sa.insert(messenger_nonces), rows)


async def test_a_checkpoint_copies_the_whole_log(services: Services) -> None:
    await _write(services, 3)
    log, copied = await services.db.checkpoint()
    if not services.db.is_sqlite:
        assert (log, copied) == (0, 0)  # PostgreSQL checkpoints on its own
        return
    assert log > 0
    assert copied == log


async def test_the_loop_keeps_the_log_copied_back_while_writes_go_on(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not services.db.is_sqlite:
        pytest.skip("SQLite only: PostgreSQL has no write-ahead log of ours to copy")
    passes: list[tuple[int, int]] = []
    checkpoint = services.db.checkpoint

    async def recorded() -> tuple[int, int]:
        passes.append(await checkpoint())
        return passes[-1]

    monkeypatch.setattr(services.db, "checkpoint", recorded)
    stop = asyncio.Event()
    task = asyncio.create_task(checkpoint_loop(services.db, stop, every_seconds=0.002))
    try:
        await _write(services, 200)
        await eventually(lambda: len(passes) >= 3)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    # Every pass copied the whole log back: the commit that reaches SQLite's own threshold
    # (1,000 pages, which 200 of these writes pass) finds nearly nothing left to copy.
    growing = [log for log, _ in passes if log > 0]
    assert len(growing) >= 3
    assert all(copied == log for log, copied in passes)
    assert max(growing) > 100


async def test_the_loop_stops_when_asked(services: Services) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(checkpoint_loop(services.db, stop, every_seconds=0.01))
    await asyncio.sleep(0.03)
    stop.set()
    await asyncio.wait_for(task, 1)
