"""Linking an existing ticket: the link, the note, the confirmation before re-linking."""

from __future__ import annotations

import pytest

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from itop_intercom.sync.worker import Worker
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.signing import DEFAULT_ADMIN_NAME
from tests.inbox.driver import Inbox
from tests.waiting import eventually


async def _detail(inbox: Inbox, ticket: int) -> None:
    await inbox.initialize()
    await inbox.click("home:ongoing")
    await inbox.click(f"ticket:{ticket}")


async def test_link_writes_the_link_and_posts_a_note(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    store_kind: str,
    t: Texts,
) -> None:
    ticket = fake_itop.add_ticket(title="Wifi")
    ref = fake_itop.ticket(ticket)["ref"]
    await _detail(inbox, ticket)
    await inbox.click(f"link:{ticket}")
    assert inbox.screen == "link_done"
    assert t("link.done", ref=ref) in inbox.texts()

    store = await services.link_store()
    link = await store.link_of(ticket)
    assert link is not None
    assert link.conversation_id == inbox.conversation_id and link.sync_enabled
    if store_kind == "itop":
        fields = fake_itop.ticket(ticket)
        assert fields["intercom_ref"] == inbox.conversation_id
        assert fields["intercom_sync_activated"] == "yes"
        assert fields["intercom_url"].endswith(f"/conversations/{inbox.conversation_id}")
        assert f"/apps/{inbox.workspace}/" in fields["intercom_url"]

    [note] = fake_intercom.replies
    assert note["message_type"] == "note"
    assert note["admin_id"] == inbox.admin_id
    assert note["conversation_id"] == inbox.conversation_id
    assert DEFAULT_ADMIN_NAME in note["body"] and ref in note["body"]
    assert f"id={ticket}" in note["body"]

    await inbox.click("home")
    assert inbox.component("home:linked")["title"] == t("home.linked", count=1)
    assert t("home.sync_active") in inbox.texts()


async def test_relinking_needs_confirmation(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    ticket = fake_itop.add_ticket()
    ref = fake_itop.ticket(ticket)["ref"]
    store = await services.link_store()
    await store.link(inbox.workspace, "999", ticket, "https://x.test/999", "someone")
    await _detail(inbox, ticket)
    await inbox.click(f"link:{ticket}")
    assert inbox.screen == "link_confirm"
    assert t("link.confirm_title", ref=ref) in inbox.texts()
    link = await store.link_of(ticket)
    assert link is not None and link.conversation_id == "999"

    await inbox.click(f"ticket:{ticket}")  # Cancel: back to the detail, nothing changed
    assert inbox.screen == "detail"
    link = await store.link_of(ticket)
    assert link is not None and link.conversation_id == "999"

    await inbox.click(f"link:{ticket}")
    await inbox.click(f"relink:{ticket}")
    assert inbox.screen == "link_done"
    link = await store.link_of(ticket)
    assert link is not None and link.conversation_id == inbox.conversation_id


async def test_link_twice_is_harmless(
    inbox: Inbox, fake_itop: FakeItop, fake_intercom: FakeIntercom, t: Texts
) -> None:
    ticket = fake_itop.add_ticket()
    await _detail(inbox, ticket)
    answer = await inbox.click(f"link:{ticket}")
    # The agent clicks "Link" again on a stale canvas (the same answer replayed).
    inbox.answer = answer
    await _detail(inbox, ticket)
    assert inbox.component(f"link:{ticket}")["disabled"]
    assert len(fake_intercom.replies) == 1


@pytest.mark.parametrize("failure", ["down", "500"])
async def test_note_is_retried_when_intercom_fails(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    failure: str,
    t: Texts,
) -> None:
    ticket = fake_itop.add_ticket()
    await _detail(inbox, ticket)
    if failure == "down":
        fake_intercom.down = True
    else:
        fake_intercom.fail_status = 500
    await inbox.click(f"link:{ticket}")
    assert inbox.screen == "link_done"
    assert t("link.note_later") in inbox.texts()
    store = await services.link_store()
    assert (await store.link_of(ticket)) is not None  # the link is not undone
    assert fake_intercom.replies == []

    fake_intercom.down = False
    fake_intercom.fail_status = None
    await Worker(services).run_once()
    assert [r["message_type"] for r in fake_intercom.replies] == ["note"]
    await Worker(services).run_once()
    assert len(fake_intercom.replies) == 1


async def test_a_link_written_after_the_budget_ran_out_still_gets_its_note_once(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    t: Texts,
) -> None:
    ticket = fake_itop.add_ticket(title="Slow link")
    await _detail(inbox, ticket)
    # Reads fit in the budget; with links in iTop, the link write (applied, then answered
    # late) does not: the canvas gives up while iTop already has the link.
    services.settings.itop.canvas_budget_seconds = 0.8
    fake_itop.latency = 0.5
    await inbox.click(f"link:{ticket}")
    # Whatever the canvas said, the link and its note go on in the background.
    await eventually(lambda: len(fake_intercom.replies) == 1)
    fake_itop.latency = 0
    link = await (await services.link_store()).link_of(ticket)
    assert link is not None and link.conversation_id == inbox.conversation_id
    assert [r["message_type"] for r in fake_intercom.replies] == ["note"]
    if inbox.screen == "error":
        await inbox.click(f"link:{ticket}")  # Retry: already linked, no second note
        assert t("link.already") in inbox.texts()
        assert len(fake_intercom.replies) == 1
