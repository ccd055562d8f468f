"""The iTop circuit breaker: probe until iTop answers, then retry what waited for it."""

from __future__ import annotations

import asyncio
import time

import httpx
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import deliveries
from itop_intercom.sync import queue
from itop_intercom.sync.health import ItopHealth
from itop_intercom.sync.planner import plan_new_parts
from tests.fakes.itop import FakeItop
from tests.sync.conftest import T0, link_ticket, post_webhook, user_part


async def test_probing_stops_when_itop_answers_and_only_outage_retries_are_woken(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    link_ticket(fake_itop, "c1")
    link_ticket(fake_itop, "c2")
    await post_webhook(client, "conversation.user.replied", "c1", [user_part("1", "a", T0)])
    await post_webhook(client, "conversation.user.replied", "c2", [user_part("2", "b", T0)])
    await plan_new_parts(services)
    later = time.time() + 600
    pending = {
        d.conversation_id: d for d in await queue.load_pending(services.db, ("ws4test1", "c1"))
    }
    pending.update(
        {d.conversation_id: d for d in await queue.load_pending(services.db, ("ws4test1", "c2"))}
    )
    await queue.schedule_retry(services.db, pending["c1"], later, "down", written=None, outage=True)
    await queue.schedule_retry(services.db, pending["c2"], later, "refused", written=None)

    health = ItopHealth(services)
    health.report_down("connection refused")
    assert health.down
    fake_itop.down = True
    probe = asyncio.create_task(health.probe_until_up(asyncio.Event()))
    await asyncio.sleep(0.7)
    assert not probe.done()
    fake_itop.down = False
    assert await asyncio.wait_for(probe, 10)
    assert not health.down
    async with services.engine.connect() as conn:
        due = dict(
            (await conn.execute(sa.select(deliveries.c.conversation_id, deliveries.c.due_at))).all()
        )
    assert due["c1"] <= time.time()
    assert due["c2"] >= later - 1


async def test_probing_ends_when_the_worker_stops(services: Services, fake_itop: FakeItop) -> None:
    health = ItopHealth(services)
    health.report_down("x")
    fake_itop.down = True
    stop = asyncio.Event()
    probe = asyncio.create_task(health.probe_until_up(stop))
    await asyncio.sleep(0.1)
    stop.set()
    assert await asyncio.wait_for(probe, 10) is False
