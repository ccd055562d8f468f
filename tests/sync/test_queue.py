"""The queue's concurrency rules: leases, fencing, and the conversation's due time."""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import deliveries, sync_conversations
from itop_intercom.sync import events, queue
from itop_intercom.sync.planner import plan_new_parts
from tests.conftest import WORKSPACE
from tests.fakes.itop import FakeItop
from tests.sync.conftest import T0, link_ticket, post_webhook, user_part

REPLIED = "conversation.user.replied"


async def planned(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, n: int = 2
) -> None:
    for i in range(n):
        link_ticket(fake_itop, f"c{i}")
        await post_webhook(client, REPLIED, f"c{i}", [user_part(f"{i}01", "a", T0)])
    await plan_new_parts(services)


async def conversation_row(services: Services, conversation: str) -> sa.Row[tuple[object, ...]]:
    async with services.engine.connect() as conn:
        return (
            await conn.execute(
                sa.select(sync_conversations).where(
                    sync_conversations.c.conversation_id == conversation
                )
            )
        ).one()


async def test_a_conversation_is_leased_by_one_worker_at_a_time(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    await planned(client, services, fake_itop)
    first = await queue.claim_conversations(services.db, "a", 1, 30)
    second = await queue.claim_conversations(services.db, "b", 10, 30)
    assert len(first) == len(second) == 1
    assert first[0].key != second[0].key
    assert await queue.claim_conversations(services.db, "c", 10, 30) == []
    assert not first[0].taken_over


async def test_an_expired_lease_is_taken_over_and_fences_the_old_holder(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    await planned(client, services, fake_itop, n=1)
    (claim,) = await queue.claim_conversations(services.db, "old", 1, 30)
    (delivery,) = await queue.load_pending(services.db, claim.key)
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(sync_conversations).values(lease_until=time.time() - 1))
    (taken,) = await queue.claim_conversations(services.db, "new", 1, 30)
    assert taken.taken_over
    # The old holder wakes up: it may not write any more.
    assert not await queue.start_step(services.db, delivery, "old", 30, "entry")
    assert await queue.start_step(services.db, delivery, "new", 30, "entry")


async def test_the_due_time_is_the_first_pending_delivery_s(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("102", "later part", T0 + 5)])
    await post_webhook(client, REPLIED, "c1", [user_part("101", "earlier part", T0)])
    await plan_new_parts(services)
    async with services.engine.begin() as conn:
        await conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.part_created_at == T0)
            .values(due_at=time.time() + 100)  # the earlier part waits out a backoff
        )
        await queue.refresh_due(conn, [(WORKSPACE, "c1")])
    row = await conversation_row(services, "c1")
    # The later part is due, but it must not overtake: the conversation waits.
    assert row.due_at > time.time() + 90
    assert await queue.claim_conversations(services.db, "w", 10, 30) == []


async def test_release_drops_the_lease_and_renew_extends_it(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    await planned(client, services, fake_itop, n=1)
    (claim,) = await queue.claim_conversations(services.db, "w", 1, 5)
    before = (await conversation_row(services, "c0")).lease_until
    await queue.renew_leases(services.db, "w", 60)
    assert (await conversation_row(services, "c0")).lease_until > before + 50
    await queue.release(services.db, claim.key, "w", not_before=time.time() + 50)
    row = await conversation_row(services, "c0")
    assert (row.lease_owner, row.lease_until) == (None, None)
    assert row.due_at > time.time() + 40


async def test_queue_stats(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    await planned(client, services, fake_itop, n=2)
    await post_webhook(client, REPLIED, "c0", [user_part("555", "not planned yet", T0 + 9)])
    figures = await events.stats(services.db)
    assert (figures.pending, figures.unplanned, figures.dead) == (3, 1, 0)
    assert 0 <= figures.oldest_pending_seconds < 60
