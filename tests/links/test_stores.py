"""Both link stores give the same behaviour: in iTop's fields, or in our database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from itop_intercom.itop.tickets import Tickets
from itop_intercom.links import (
    ItopFieldLinkStore,
    LinkStore,
    LocalLinkStore,
    SyncedLink,
    has_link_fields,
)
from itop_intercom.settings.model import Settings
from itop_intercom.store.database import Database
from itop_intercom.store.db import create_engine
from tests.fakes.itop import FakeItop
from tests.service import client_on

WS = "ws4test1"
CONV = "1001"
URL = "https://app.intercom.com/a/apps/ws4test1/inbox/inbox/all/conversations/1001"


@pytest.fixture(params=["itop", "local"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(kind: str) -> FakeItop:
    return FakeItop(instance="intercom" if kind == "itop" else "vanilla")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    db = Database(create_engine(database_url))
    yield db
    await db.dispose()


@pytest.fixture
async def store(kind: str, fake: FakeItop, db: Database) -> AsyncIterator[LinkStore]:
    async with client_on(fake) as client:
        tickets = Tickets(client, Settings())
        assert await has_link_fields(tickets) is (kind == "itop")
        yield ItopFieldLinkStore(tickets) if kind == "itop" else LocalLinkStore(tickets, db)


async def test_link_then_list_with_sync_on(store: LinkStore, fake: FakeItop) -> None:
    first = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    second = fake.add_ticket(title="B", caller_id=15, org_id=3, status="new")
    fake.add_ticket(title="unrelated", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, first, URL, "Agent")
    await store.link(WS, CONV, second, URL, "Agent")
    linked = await store.linked(WS, CONV)
    assert linked.total == 2
    assert {t.ticket.id for t in linked.tickets} == {first, second}
    assert linked.sync_state == "active"
    assert sorted(await store.synced_ticket_ids(WS, CONV)) == sorted([first, second])


async def test_pause_and_resume(store: LinkStore, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, ticket, URL, "Agent")
    await store.set_sync(WS, CONV, False)
    assert (await store.linked(WS, CONV)).sync_state == "paused"
    assert await store.synced_ticket_ids(WS, CONV) == []
    await store.set_sync(WS, CONV, True)
    assert (await store.linked(WS, CONV)).sync_state == "active"


async def test_a_ticket_links_to_one_conversation_at_most(store: LinkStore, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, ticket, URL, "Agent")
    await store.link(WS, "2002", ticket, URL.replace("1001", "2002"), "Agent")
    assert (await store.linked(WS, CONV)).total == 0
    link = await store.link_of(ticket)
    assert link is not None
    assert link.conversation_id == "2002"


async def test_unlinked_ticket_has_no_link(store: LinkStore, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    assert await store.link_of(ticket) is None
    assert (await store.linked(WS, CONV)).sync_state == "none"


async def test_creation_fields_put_the_link_where_the_store_keeps_it(
    store: LinkStore, kind: str
) -> None:
    fields = store.creation_fields(CONV, URL)
    if kind == "itop":
        assert fields == {
            "intercom_ref": CONV,
            "intercom_url": URL,
            "intercom_sync_activated": "yes",
        }
    else:
        assert fields == {}


async def test_synced_tickets_of_many_conversations_at_once(
    store: LinkStore, fake: FakeItop
) -> None:
    first = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    second = fake.add_ticket(title="B", caller_id=15, org_id=3, status="new")
    paused = fake.add_ticket(title="C", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, first, URL, "Agent")
    await store.link(WS, CONV, second, URL, "Agent")
    await store.link(WS, "2002", paused, URL.replace("1001", "2002"), "Agent")
    await store.set_sync(WS, "2002", False)
    found = await store.synced_tickets([(WS, CONV), (WS, "2002"), (WS, "3003")])
    assert found == {(WS, CONV): sorted([first, second]), (WS, "2002"): [], (WS, "3003"): []}


async def test_synced_links_give_every_ticket_with_sync_on_and_its_conversation(
    store: LinkStore, fake: FakeItop
) -> None:
    first = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    paused = fake.add_ticket(title="B", caller_id=15, org_id=3, status="new")
    fake.add_ticket(title="unlinked", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, first, URL, "Agent")
    await store.link(WS, "2002", paused, URL.replace("1001", "2002"), "Agent")
    await store.set_sync(WS, "2002", False)
    (link,) = await store.synced_links()
    assert (link.ticket_id, link.conversation_id) == (first, CONV)
    assert link.belongs_to(WS)
    assert not link.belongs_to("otherws1")


def test_a_synced_link_of_the_itop_store_belongs_to_the_workspace_of_its_url() -> None:
    assert SyncedLink(1, CONV, None, URL).belongs_to(WS)
    assert not SyncedLink(1, CONV, None, URL).belongs_to("otherws1")
    assert SyncedLink(1, CONV, None, None).belongs_to("otherws1")  # a link set by hand


async def test_a_ticket_found_after_a_lost_create_call(
    store: LinkStore, fake: FakeItop, kind: str
) -> None:
    """The iTop store writes the link in the create call, the local store after it: a ticket
    not linked yet may be the one just created only with the local store."""
    unlinked = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    mine = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    elsewhere = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, mine, URL, "Agent")
    await store.link(WS, "2002", elsewhere, URL.replace("1001", "2002"), "Agent")
    assert await store.may_be_created_for(mine, CONV)
    assert not await store.may_be_created_for(elsewhere, CONV)
    assert await store.may_be_created_for(unlinked, CONV) is (kind == "local")


async def test_synced_tickets_keep_workspaces_apart(store: LinkStore, fake: FakeItop) -> None:
    """Conversation ids are not unique across workspaces."""
    mine = fake.add_ticket(title="A", caller_id=15, org_id=3, status="new")
    theirs = fake.add_ticket(title="B", caller_id=15, org_id=3, status="new")
    await store.link(WS, CONV, mine, URL, "Agent")
    await store.link("otherws1", CONV, theirs, URL.replace(WS, "otherws1"), "Agent")
    found = await store.synced_tickets([(WS, CONV), ("otherws1", CONV)])
    assert found == {(WS, CONV): [mine], ("otherws1", CONV): [theirs]}
