"""Only what happens while a link is on goes out: pauses, late links, several tickets."""

from __future__ import annotations

from datetime import timedelta

from itop_intercom.runtime import Services
from itop_intercom.sync.back.runner import BacksyncRunner
from tests.conftest import WORKSPACE
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.sync.back.conftest import Start, cycle, link_locally, linked, replies
from tests.sync.conftest import set_sync


def _bodies(intercom: FakeIntercom, conversation: str) -> list[str]:
    return [r["body"].split("</p>")[0].removeprefix("<p>") for r in replies(intercom, conversation)]


async def test_entries_written_while_sync_is_paused_are_never_sent(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>before</p>")
    set_sync(fake_itop, ticket, False)
    fake_itop.ui_add_entry(ticket, "<p>while paused, same poll</p>")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>while paused, next poll</p>")
    await cycle(runner)
    set_sync(fake_itop, ticket, True)
    fake_itop.ui_add_entry(ticket, "<p>after</p>")
    await cycle(runner)
    assert _bodies(intercom, "501") == ["before", "after"]


async def test_a_ticket_linked_after_entries_existed_sends_only_later_ones(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    await cycle(runner)
    ticket = fake_itop.add_ticket()
    fake_itop.ui_add_entry(ticket, "<p>old, seen unlinked</p>")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>old, same poll as the link</p>")
    body = fake_itop.api(
        {
            "operation": "core/update",
            "comment": "itop-intercom: linked to Intercom conversation by Ciaran",
            "class": "UserRequest",
            "key": ticket,
            "fields": {
                "intercom_ref": "501",
                "intercom_url": f"https://app.intercom.com/a/apps/{WORKSPACE}/conversations/501",
                "intercom_sync_activated": "yes",
            },
        }
    )
    assert body["code"] == 0, body
    fake_itop.ui_add_entry(ticket, "<p>new</p>")
    await cycle(runner)
    assert _bodies(intercom, "501") == ["new"]


async def test_one_conversation_linked_to_two_tickets_gets_each_entry_once(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    first, second = linked(fake_itop, "501"), linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(first, "<p>from the first</p>")
    fake_itop.ui_add_entry(second, "<p>from the second</p>")
    fake_itop.ui_add_entry(first, "<p>first again</p>")
    await cycle(runner)
    await cycle(runner)
    assert _bodies(intercom, "501") == ["from the first", "from the second", "first again"]


async def test_local_links_pause_resume_and_link_time(
    start: Start, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    async with start(ticket={"link_store": "local"}) as services:
        runner = BacksyncRunner(services, "w")
        await cycle(runner)
        ticket = fake_itop.add_ticket()
        store = await services.link_store()
        # Written an hour before the link (the service was stopped meanwhile): never sent.
        real_clock = fake_itop.clock
        fake_itop.clock = lambda: real_clock() - timedelta(hours=1)
        fake_itop.ui_add_entry(ticket, "<p>an hour before the link</p>")
        fake_itop.clock = real_clock
        await link_locally(services, "503", ticket)
        fake_itop.ui_add_entry(ticket, "<p>after the link</p>")
        await cycle(runner)
        await store.set_sync(WORKSPACE, "503", False)
        await cycle(runner)  # the pause is seen
        fake_itop.ui_add_entry(ticket, "<p>paused</p>")
        await cycle(runner)
        await store.set_sync(WORKSPACE, "503", True)
        await cycle(runner)  # the resume is seen
        fake_itop.ui_add_entry(ticket, "<p>resumed</p>")
        await cycle(runner)
        assert _bodies(intercom, "503") == ["after the link", "resumed"]


async def test_a_link_to_a_workspace_not_configured_here_is_left_alone(
    services: Services, runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = fake_itop.add_ticket(
        intercom_ref="501",
        intercom_url="https://app.intercom.com/a/apps/otherws9/conversations/501",
        intercom_sync_activated="yes",
    )
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>for another service</p>")
    await cycle(runner)
    assert replies(intercom) == []
    assert services.metrics.backsync_skipped.labels("workspace_unknown")._value.get() == 1
