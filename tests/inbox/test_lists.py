"""The linked and ongoing lists: items, paging beyond 30, and the way back."""

from __future__ import annotations

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox


async def test_ongoing_list_items(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    open_id = fake_itop.add_ticket(title="Screen   flickers", status="assigned")
    closed = fake_itop.add_ticket(title="Old one", status="closed")
    fake_itop.add_ticket(title="Someone else's", caller_id=7, org_id=2)
    await inbox.initialize()
    await inbox.click("home:ongoing")
    assert inbox.screen == "list"
    item = inbox.component(f"ticket:{open_id}")
    assert item["title"] == fake_itop.ticket(open_id)["ref"]
    assert item["subtitle"] == "Screen flickers"
    assert item["tertiary_text"] == t("value.status.assigned")
    assert f"ticket:{closed}" not in inbox.ids()
    assert len([i for i in inbox.ids() if i.startswith("ticket:")]) == 1
    await inbox.click("home")
    assert inbox.screen == "home"


async def test_linked_list_marks_paused_tickets(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    store = await services.link_store()
    ticket = fake_itop.add_ticket(title="Linked")
    await store.link(inbox.workspace, inbox.conversation_id, ticket, "https://x.test", "t")
    await store.set_sync(inbox.workspace, inbox.conversation_id, False)
    await inbox.initialize()
    await inbox.click("home:linked")
    item = inbox.component(f"ticket:{ticket}")
    status = t("value.status.new")
    assert item["tertiary_text"] == t("list.status_paused", status=status)


async def test_more_than_thirty_tickets_are_paged(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    ids = [fake_itop.add_ticket(title=f"Ticket {n}") for n in range(35)]
    await inbox.initialize()
    await inbox.click("home:ongoing")
    first_page = [i for i in inbox.ids() if i.startswith("ticket:")]
    assert len(first_page) == 30
    assert t("list.range", first=1, last=30, total=35) in inbox.texts()
    assert inbox.component("list:ongoing:2")["label"] == t("list.next", count=5)

    await inbox.click("list:ongoing:2")
    second_page = [i for i in inbox.ids() if i.startswith("ticket:")]
    assert len(second_page) == 5
    assert not set(first_page) & set(second_page)
    assert {f"ticket:{i}" for i in ids} == set(first_page) | set(second_page)
    assert t("list.range", first=31, last=35, total=35) in inbox.texts()
    assert "list:ongoing:3" not in inbox.ids()

    # The detail of a ticket of page 2 comes back to page 2.
    await inbox.click(second_page[0])
    assert inbox.screen == "detail"
    await inbox.click("list:ongoing:2")
    assert inbox.screen == "list"
    assert [i for i in inbox.ids() if i.startswith("ticket:")] == second_page
    await inbox.click("list:ongoing:1")
    assert len([i for i in inbox.ids() if i.startswith("ticket:")]) == 30


async def test_linked_list_pages_too(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    store = await services.link_store()
    for n in range(32):
        ticket = fake_itop.add_ticket(title=f"Linked {n}")
        await store.link(inbox.workspace, inbox.conversation_id, ticket, "https://x.test", "t")
    await inbox.initialize()
    assert inbox.component("home:linked")["title"] == t("home.linked_more", count=30)
    await inbox.click("home:linked")
    assert len([i for i in inbox.ids() if i.startswith("ticket:")]) == 30
    await inbox.click("list:linked:2")
    assert len([i for i in inbox.ids() if i.startswith("ticket:")]) == 2
