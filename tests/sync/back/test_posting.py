"""What an agent does in iTop reaches the linked conversation, once, as the right admin."""

from __future__ import annotations

import re

from itop_intercom.runtime import Services
from itop_intercom.sync.back.poller import state_of
from itop_intercom.sync.back.runner import BacksyncRunner
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import AGENT_TOKEN, FakeItop
from tests.sync.back.conftest import (
    TOKEN_ADMIN,
    VICTOR_ADMIN,
    Start,
    cycle,
    expire_leases,
    linked,
    replies,
)


async def test_an_agent_reply_typed_in_itop_is_posted_once_as_that_agent(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)  # first start: the cursor is set to "now"
    fake_itop.ui_add_entry(ticket, "<p>We are on it, <b>Agatha</b>.</p>", login="victor.hugo")
    await cycle(runner)
    await cycle(runner)
    posted = replies(intercom, "501")
    assert len(posted) == 1
    reply = posted[0]
    assert (reply["message_type"], reply["admin_id"], reply["type"]) == (
        "comment",
        VICTOR_ADMIN,
        "admin",
    )
    assert reply["body"].startswith("<p>We are on it, <b>Agatha</b>.</p>")
    # Attributed to Victor himself: no "wrote in iTop" line; the ticket's ref links to the portal.
    assert "wrote in iTop" not in reply["body"]
    ref = fake_itop.ticket(ticket)["ref"]
    assert re.search(
        rf'<a href="[^"]*exec_module=itop-portal-base[^"]*#itop-\d+-reply">{ref}</a>', reply["body"]
    )


async def test_an_author_who_is_not_an_intercom_admin_is_named_by_the_default_admin(
    services: Services, runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    # Another integration writes on behalf of Agatha (no Intercom admin has her email).
    body = fake_itop.api(
        {
            "operation": "core/update",
            "comment": "portal bridge",
            "class": "UserRequest",
            "key": ticket,
            "fields": {
                "public_log": {
                    "add_item": {
                        "message": "<p>Any news?</p>",
                        "format": "html",
                        "user_id": {"login": "agatha.christie"},
                    }
                }
            },
        }
    )
    assert body["code"] == 0, body
    await cycle(runner)
    [reply] = replies(intercom, "501")
    assert reply["admin_id"] == TOKEN_ADMIN  # no default admin configured: the token's admin
    assert reply["body"].startswith("<p><strong>Agatha Christie wrote in iTop:</strong></p>")
    assert "<p>Any news?</p>" in reply["body"]


async def test_the_configured_default_admin_posts_for_unknown_authors(
    start: Start,
    fake_itop: FakeItop,
    intercom: FakeIntercom,
) -> None:

    async with start(backsync={"default_admin_id": "5130002"}) as services:
        runner = BacksyncRunner(services, "w")
        ticket = linked(fake_itop, "502")
        await cycle(runner)
        fake_itop.api(
            {
                "operation": "core/update",
                "comment": "another integration",
                "class": "UserRequest",
                "key": ticket,
                "fields": {"public_log": {"add_item": {"message": "Done.", "format": "text"}}},
            },
            token=AGENT_TOKEN,
        )
        await cycle(runner)
        [reply] = replies(intercom, "502")
        assert reply["admin_id"] == "5130002"
        assert "intercom_sync_agent wrote in iTop:" in reply["body"]


async def test_itop_html_is_cleaned_for_intercom(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(
        ticket,
        '<div class="x">See <a href="https://kb.example/1?a=1&amp;b=2">the KB</a></div>'
        "<ul><li>one</li></ul><table><tr><td>cell</td></tr></table>",
    )
    await cycle(runner)
    [reply] = replies(intercom, "501")
    body = reply["body"]
    assert '<a href="https://kb.example/1?a=1&amp;b=2">the KB</a>' in body
    assert "<ul><li>one</li></ul>" in body and "cell" in body
    assert "<div" not in body and "<table" not in body and "class=" not in body


async def test_private_log_entries_stay_in_itop_unless_notes_are_on(
    start: Start,
    fake_itop: FakeItop,
    intercom: FakeIntercom,
) -> None:

    for notes, expected in ((False, 0), (True, 1)):
        intercom.replies.clear()
        async with start(backsync={"private_notes": notes}) as services:
            runner = BacksyncRunner(services, "w")
            ticket = linked(fake_itop, "501")
            await cycle(runner)
            fake_itop.ui_add_entry(ticket, "<p>Root cause: disk full.</p>", attcode="private_log")
            await cycle(runner)
            notes_posted = [r for r in replies(intercom, "501") if r["message_type"] == "note"]
            assert len(notes_posted) == expected
            assert all("Root cause: disk full." in r["body"] for r in notes_posted)
            assert not [r for r in replies(intercom, "501") if r["message_type"] == "comment"]


async def test_an_itop_refusing_the_intermediate_class_is_read_through_the_root_class(
    services: Services, runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>still arrives</p>")
    fake_itop.api(
        {
            "operation": "core/update",
            "comment": "assigning",
            "class": "UserRequest",
            "key": ticket,
            "fields": {"team_id": 37},
        }
    )  # an op of an attribute that is not followed: the cursor must pass it
    refusal = "Error: Query failed to execute: query = SELECT CMDBChangeOpSetAttribute …"
    fake_itop.fail_next.append({"code": 100, "message": refusal})
    await cycle(runner)
    await cycle(runner)
    [reply] = replies(intercom, "501")
    assert reply["body"].startswith("<p>still arrives</p>")
    assert state_of(services).history_class == "CMDBChangeOp"
    polls = [
        c for c in fake_itop.calls if (c.get("json_data") or {}).get("class") == "CMDBChangeOp"
    ]
    assert polls and "attcode" not in polls[-1]["json_data"]["key"]


async def test_a_poll_with_nothing_new_costs_one_itop_call_and_metrics_say_so(
    services: Services, runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    for conversation in ("501", "502", "503"):
        linked(fake_itop, conversation)
    await cycle(runner)
    before = len(fake_itop.calls)
    for _ in range(3):
        await cycle(runner)
    assert len(fake_itop.calls) - before == 3
    metrics = services.metrics
    assert metrics.backsync_polls.labels("nothing")._value.get() == 4
    ticket = linked(fake_itop, "501")
    fake_itop.ui_add_entry(ticket, "<p>hello</p>")
    before = len(fake_itop.calls)
    await cycle(runner)
    # The history, the changed ticket, Victor's email: then cached.
    assert len(fake_itop.calls) - before == 3
    fake_itop.ui_add_entry(ticket, "<p>again</p>")
    before = len(fake_itop.calls)
    await cycle(runner)
    assert len(fake_itop.calls) - before == 2
    assert metrics.backsync_posts.labels("reply", "done")._value.get() == 2
    assert metrics.backsync_poll_calls._value.get() == 4 + 3 + 2


async def test_lag_shows_the_oldest_change_waiting_for_intercom(
    services: Services, runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>while Intercom is down</p>")
    intercom.down = True
    await cycle(runner)
    assert services.metrics.backsync_posts.labels("reply", "retry")._value.get() == 1
    assert replies(intercom) == []
    intercom.down = False
    await expire_leases(services)
    await runner.send_due()  # not due yet: the backoff holds it
    assert replies(intercom) == []
    assert services.metrics.backsync_lag._value.get() > 0.0
