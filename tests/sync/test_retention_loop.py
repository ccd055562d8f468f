"""The worker's retention task purges on its own, and stops when the worker stops."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import conversation_parts
from itop_intercom.sync.retention_loop import retention_loop
from tests.conftest import SettingsFactory
from tests.sync.test_retention import add_part
from tests.waiting import eventually


async def _parts(services: Services) -> int:
    async with services.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(conversation_parts)
        return int((await conn.execute(query)).scalar_one())


async def test_the_worker_purges_what_is_past_retention(
    make_settings: SettingsFactory, services: Services
) -> None:
    # 0.001 minute: the first purge comes after 60 ms instead of a minute.
    services.settings = make_settings(retention={"every_minutes": 0.001, "done_days": 1})
    days_ago = (1_800_000_000 - time.time()) / 86400 + 2  # received two days ago
    await add_part(services.engine, "old", days_ago, "planned", ("done", days_ago))
    await add_part(services.engine, "new", days_ago - 1.5, "planned", ("done", days_ago - 1.5))
    stop = asyncio.Event()
    task = asyncio.create_task(retention_loop(services, stop))
    try:
        left = 2
        for _ in range(500):
            left = await _parts(services)
            if left == 1:
                break
            await asyncio.sleep(0.01)
        assert left == 1  # the old part went, the recent one stayed
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_off_means_nothing_is_deleted(
    make_settings: SettingsFactory, services: Services
) -> None:
    services.settings = make_settings(retention={"enabled": False, "every_minutes": 0.001})
    stop = asyncio.Event()
    task = asyncio.create_task(retention_loop(services, stop))
    await eventually(task.done, within=1)  # returns at once: nothing scheduled
    stop.set()
