"""Nothing this service wrote into iTop comes back to Intercom, whichever store keeps links."""

from __future__ import annotations

import httpx

from itop_intercom.runtime import Services
from itop_intercom.sync.back.runner import BacksyncRunner
from itop_intercom.sync.worker import Worker
from tests.conftest import WORKSPACE
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.sync.back.conftest import Start, cycle, link_locally, linked, replies
from tests.sync.conftest import T0, admin_note, admin_reply, post_webhook, texts, user_part


async def _forward_then_back(
    client: httpx.AsyncClient, services: Services, runner: BacksyncRunner, conversation: str
) -> None:
    parts = [
        user_part("9001", "My printer is on fire", T0),
        admin_reply("9002", "<p>Please step away from it.</p>", T0 + 1),
        admin_note("9003", "<p>Call the fire brigade</p>", T0 + 2),
    ]
    for part in parts:
        topic = {"9001": "conversation.user.replied", "9002": "conversation.admin.replied"}
        response = await post_webhook(
            client, topic.get(part["id"], "conversation.admin.noted"), conversation, [part]
        )
        assert response.status_code == 200, response.text
    await Worker(services).run_once()
    await cycle(runner)
    await cycle(runner)


async def test_entries_from_intercom_are_not_echoed_with_links_in_itop(
    client: httpx.AsyncClient,
    services: Services,
    runner: BacksyncRunner,
    fake_itop: FakeItop,
    intercom: FakeIntercom,
) -> None:
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    await _forward_then_back(client, services, runner, "501")
    # The forward sync did write them (one on behalf of Victor, who is an Intercom admin too).
    assert texts(fake_itop, ticket)[-2:][0].endswith("My printer is on fire")
    assert len(texts(fake_itop, ticket, "private_log")) == 1
    assert replies(intercom) == []
    assert services.metrics.backsync_skipped.labels("echo")._value.get() == 3


async def test_entries_from_intercom_are_not_echoed_with_links_in_our_database(
    start: Start, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    from itop_intercom.app import create_app

    async with start(ticket={"link_store": "local"}, backsync={"private_notes": True}) as services:
        app = create_app(services, on_shutdown_close=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service.test"
        ) as client:
            runner = BacksyncRunner(services, "w")
            ticket = fake_itop.add_ticket()
            await link_locally(services, "502", ticket)
            await cycle(runner)
            await _forward_then_back(client, services, runner, "502")
            assert len(texts(fake_itop, ticket)) == 2
            assert replies(intercom) == []
            # An agent's entry in the same ticket still goes out: the link works.
            fake_itop.ui_add_entry(ticket, "<p>Brigade on its way.</p>")
            await cycle(runner)
            [reply] = replies(intercom, "502")
            assert "Brigade on its way." in reply["body"]


async def test_an_entry_carrying_a_part_link_is_ours_whoever_wrote_it(
    runner: BacksyncRunner, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    """E.g. written by another instance or version of this service with another comment."""
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    url = f"https://app.intercom.com/a/apps/{WORKSPACE}/inbox/inbox/all/conversations/501"
    body = fake_itop.api(
        {
            "operation": "core/update",
            "comment": "legacy sync",
            "class": "UserRequest",
            "key": ticket,
            "fields": {
                "public_log": {
                    "add_item": {
                        "message": f'<p><em>From <a href="{url}#part-77">Intercom</a></em></p>'
                        "<p>hello</p>",
                        "format": "html",
                    }
                }
            },
        }
    )
    assert body["code"] == 0, body
    await cycle(runner)
    assert replies(intercom) == []
