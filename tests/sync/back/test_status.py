"""Status changes: an internal note by default; the reply, close and reopen when turned on."""

from __future__ import annotations

from itop_intercom.inbox.home_cache import HomeView
from itop_intercom.inbox.person import PersonMatch
from itop_intercom.itop.client import ItopObject
from itop_intercom.links import LinkedTicket, LinkedTickets
from itop_intercom.sync.back.runner import BacksyncRunner
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.sync.back.conftest import VICTOR_ADMIN, Start, cycle, linked, replies


async def test_a_status_change_becomes_a_note_with_the_solution(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_apply_stimulus(ticket, "ev_assign", team_id=37, agent_id=7)
    fake_itop.ui_apply_stimulus(
        ticket,
        "ev_resolve",
        solution="<p>Replaced the toner.</p>",
        resolution_code="hardware repair",
    )
    await cycle(runner)
    ref = fake_itop.ticket(ticket)["ref"]
    posted = replies(intercom, "501")
    assert [r["message_type"] for r in posted] == ["note", "note"]
    assert posted[0]["body"].startswith(f"<p>{ref} is now Assigned</p>")
    assert posted[1]["body"].startswith(
        f"<p>{ref} is now Resolved</p><p>Solution:</p><p>Replaced the toner.</p>"
    )
    # Victor clicked: his admin posts; the note links to the back office, not the portal.
    assert {r["admin_id"] for r in posted} == {VICTOR_ADMIN}
    assert "pages/UI.php?operation=details" in posted[1]["body"]
    # Nothing the end user sees, and the conversation stays open.
    assert intercom.state_changes == []


async def test_options_reply_on_resolution_and_close_and_reopen_the_conversation(
    start: Start, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    async with start(
        backsync={
            "status_notes": False,
            "workspaces": {"ws4test1": {"reply_on_resolution": True, "close_conversations": True}},
        }
    ) as services:
        runner = BacksyncRunner(services, "w")
        ticket = linked(fake_itop, "501")
        await cycle(runner)
        fake_itop.ui_apply_stimulus(ticket, "ev_assign", team_id=37, agent_id=7)
        fake_itop.ui_apply_stimulus(
            ticket, "ev_resolve", solution="<p>Fixed.</p>", resolution_code="hardware repair"
        )
        fake_itop.ui_apply_stimulus(ticket, "ev_reopen")
        fake_itop.ui_apply_stimulus(
            ticket, "ev_resolve", solution="<p>Fixed again.</p>", resolution_code="hardware repair"
        )
        fake_itop.ui_apply_stimulus(ticket, "ev_close")
        await cycle(runner)
        ref = fake_itop.ticket(ticket)["ref"]
        posted = replies(intercom, "501")
        assert [r["message_type"] for r in posted] == ["comment", "comment"]
        assert posted[0]["body"].startswith(f"<p>Your request {ref} has been resolved.</p>")
        assert [c["message_type"] for c in intercom.state_changes] == ["open", "close"]
        assert intercom.conversation("501")["state"] == "closed"


async def test_a_status_change_drops_what_the_inbox_home_cached_for_that_ticket(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    home = runner.services.home_cache
    ticket = linked(fake_itop, "501")
    other = linked(fake_itop, "502")
    await cycle(runner)

    def cached(conversation: str, ticket_id: int) -> None:
        shown = LinkedTickets(
            [LinkedTicket(ItopObject("UserRequest", str(ticket_id), {}), True)], 1
        )
        match = PersonMatch("found", person_ref=("Person", 15))
        home.put("ws4test1", conversation, HomeView((None, "a@b.c"), shown, match, 1, home.clock()))

    cached("501", ticket)
    cached("502", other)
    fake_itop.ui_add_entry(other, "<p>a reply changes no status</p>")
    fake_itop.ui_apply_stimulus(ticket, "ev_assign", team_id=37, agent_id=7)
    await cycle(runner)
    assert home.get("ws4test1", "501") is None  # Home reads iTop again: "Assigned"
    assert home.get("ws4test1", "502") is not None
