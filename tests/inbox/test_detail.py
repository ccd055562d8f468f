"""Ticket detail: attributes as label / value, link state, buttons."""

from __future__ import annotations

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from itop_intercom.settings.model import Settings
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox


async def _open(inbox: Inbox, ticket: int) -> None:
    await inbox.initialize()
    await inbox.click("home:ongoing")
    await inbox.click(f"ticket:{ticket}")
    assert inbox.screen == "detail"


async def test_detail_shows_the_configured_attributes(
    inbox: Inbox, fake_itop: FakeItop, t: Texts, settings: Settings
) -> None:
    ticket = fake_itop.add_ticket(
        title="Printer <i>jam</i>",
        description="<p>Line one &amp; more</p><script>x()</script><p>Line two</p>",
        urgency="2",
    )
    await _open(inbox, ticket)
    assert inbox.components[0] == {
        "type": "text",
        "text": fake_itop.ticket(ticket)["ref"],
        "style": "header",
        "align": "left",
    }
    table = inbox.table()
    assert table[t("attr.status")] == t("value.status.new")
    assert table[t("attr.title")] == "Printer <i>jam</i>"  # a string attribute is not HTML
    assert table[t("attr.description")] == "Line one & more Line two"
    assert table[t("attr.start_date")] == fake_itop.ticket(ticket)["start_date"]
    assert t("detail.not_linked") in inbox.texts()
    assert not inbox.component(f"link:{ticket}")["disabled"]
    url = inbox.component(f"open:{ticket}")["action"]["url"]
    assert url == f"http://itop.test/pages/UI.php?operation=details&class=UserRequest&id={ticket}"


async def test_external_keys_by_name_and_case_logs_skipped(
    fake_itop: FakeItop,
    inbox: Inbox,
    services: Services,
    t: Texts,
) -> None:
    services.settings.view_ticket.details_attributes = [
        "caller_id",
        "org_id",
        "urgency",
        "public_log",
        "service_id",
    ]
    ticket = fake_itop.add_ticket(urgency="1", service_id=1)
    await _open(inbox, ticket)
    table = inbox.table()
    assert table[t("attr.caller_id")] == "Agatha Christie"
    assert table[t("attr.org_id")] == "Demo"
    assert table[t("attr.urgency")] == t("value.urgency.1")
    assert table[t("attr.service_id")] == "Computers and peripherals"
    assert len(table) == 4  # the case log is left out


async def test_linked_here_disables_link(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    ticket = fake_itop.add_ticket()
    store = await services.link_store()
    await store.link(inbox.workspace, inbox.conversation_id, ticket, "https://x.test/c", "t")
    await inbox.initialize()
    await inbox.click("home:linked")
    await inbox.click(f"ticket:{ticket}")
    assert t("detail.linked_here") in inbox.texts()
    assert inbox.component(f"link:{ticket}")["disabled"]
    await inbox.click("list:linked:1")
    assert inbox.screen == "list"


async def test_linked_elsewhere_links_to_that_conversation(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    ticket = fake_itop.add_ticket()
    store = await services.link_store()
    other_url = (
        f"https://app.intercom.com/a/apps/{inbox.workspace}/inbox/inbox/all/conversations/42"
    )
    await store.link(inbox.workspace, "42", ticket, other_url, "t")
    await _open(inbox, ticket)
    assert t("detail.linked_elsewhere", url=other_url) in inbox.texts()
    assert not inbox.component(f"link:{ticket}")["disabled"]


async def test_open_in_itop_can_be_hidden(
    inbox: Inbox, fake_itop: FakeItop, services: Services
) -> None:
    services.settings.view_ticket.show_open_in_backoffice_button = False
    ticket = fake_itop.add_ticket()
    await _open(inbox, ticket)
    assert f"open:{ticket}" not in inbox.ids()


async def test_deleted_ticket(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    ticket = fake_itop.add_ticket()
    await inbox.initialize()
    await inbox.click("home:ongoing")
    fake_itop.remove("UserRequest", ticket)
    await inbox.click(f"ticket:{ticket}")
    assert t("detail.not_found") in inbox.texts()
    await inbox.click("list:ongoing:1")
    assert inbox.screen == "list"
