"""Planning: deliveries for the tickets linked with sync on when the part is first seen."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.intercom.regions import conversation_url
from itop_intercom.itop.errors import ItopUnreachable
from itop_intercom.runtime import Services
from itop_intercom.store.tables import deliveries, sync_conversations
from itop_intercom.sync.planner import plan_new_parts
from tests.conftest import OTHER_WORKSPACE, WORKSPACE
from tests.fakes.itop import FakeItop
from tests.fakes.signing import make_part
from tests.sync.conftest import T0, count, link_ticket, parts_plan, post_webhook, user_part

REPLIED = "conversation.user.replied"


async def test_links_of_many_conversations_cost_one_itop_call(
    services: Services, fake_itop: FakeItop
) -> None:
    linked = {f"c{i}": link_ticket(fake_itop, f"c{i}") for i in range(30)}
    link_ticket(fake_itop, "c0", sync=False)
    keys = [(WORKSPACE, f"c{i}") for i in range(40)]
    store = await services.link_store()  # decides the store once (one call)
    fake_itop.calls.clear()
    found = await store.synced_tickets(keys)
    assert len(fake_itop.calls) == 1
    assert found[(WORKSPACE, "c0")] == [linked["c0"]]
    assert found[(WORKSPACE, "c35")] == []


async def test_each_part_is_decided_once(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    bot = make_part("103", "comment", "<p>bot</p>", T0, "bot", None, "Bot")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "a", T0), bot])
    await post_webhook(client, REPLIED, "c2", [user_part("201", "b", T0)])
    assert await plan_new_parts(services) == 3
    assert await parts_plan(services) == {"101": "planned", "103": "ignored", "201": "unlinked"}
    assert await plan_new_parts(services) == 0  # nothing left to decide
    async with services.engine.connect() as conn:
        row = (await conn.execute(sa.select(deliveries))).one()
        due = (await conn.execute(sa.select(sync_conversations.c.due_at))).scalar_one()
    assert (row.ticket_id, row.state, row.origin, row.conversation_id) == (
        ticket,
        "pending",
        "webhook",
        "c1",
    )
    assert due == row.due_at


async def test_a_failed_lookup_leaves_parts_to_the_next_round(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    link_ticket(fake_itop, "c1")
    await services.link_store()
    await post_webhook(client, REPLIED, "c1", [user_part("101", "a", T0)])
    fake_itop.down = True
    with pytest.raises(ItopUnreachable):
        await plan_new_parts(services)
    fake_itop.down = False
    assert (await parts_plan(services))["101"] == "new"
    assert await plan_new_parts(services) == 1
    assert await count(services, deliveries) == 1


async def test_a_conversation_itop_refuses_does_not_block_the_others(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    link_ticket(fake_itop, "c1")
    link_ticket(fake_itop, "c2")
    await services.link_store()
    await post_webhook(client, REPLIED, "c1", [user_part("101", "a", T0)])
    await post_webhook(client, REPLIED, "c2", [user_part("201", "b", T0)])
    await services.warmups.join()  # Home's background warm-ups of c1 and c2 are done
    refused = {"code": 100, "message": "Error: boom"}
    # The batch is refused; then, one by one, c1 is refused and c2 answered.
    fake_itop.fail_next = [refused, refused]
    fake_itop.calls.clear()
    assert await plan_new_parts(services) == 2
    assert len(fake_itop.calls) == 3
    assert await parts_plan(services) == {"101": "unlinked", "201": "planned"}


async def test_same_conversation_id_in_two_workspaces_reaches_only_its_own_tickets(
    services: Services, fake_itop: FakeItop
) -> None:
    mine = fake_itop.add_ticket(
        title="ws1",
        caller_id=15,
        org_id=3,
        status="new",
        intercom_ref="555",
        intercom_url=conversation_url(WORKSPACE, "555"),
        intercom_sync_activated="yes",
    )
    theirs = fake_itop.add_ticket(
        title="ws2",
        caller_id=15,
        org_id=3,
        status="new",
        intercom_ref="555",
        intercom_url=conversation_url(OTHER_WORKSPACE, "555"),
        intercom_sync_activated="yes",
    )
    store = await services.link_store()
    found = await store.synced_tickets([(WORKSPACE, "555"), (OTHER_WORKSPACE, "555")])
    assert found == {(WORKSPACE, "555"): [mine], (OTHER_WORKSPACE, "555"): [theirs]}
    assert [t.ticket.id for t in (await store.linked(WORKSPACE, "555")).tickets] == [mine]
