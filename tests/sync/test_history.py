"""Copying a conversation's history into a new ticket through the exactly-once queue."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from itop_intercom.runtime import Services
from itop_intercom.sync.history import plan_history
from itop_intercom.sync.worker import Worker
from tests.conftest import WORKSPACE
from tests.fakes.itop import FakeItop
from tests.fakes.signing import load_example, make_part
from tests.sync.conftest import (
    AGATHA_EMAIL,
    T0,
    VICTOR_EMAIL,
    drain,
    link_ticket,
    post_webhook,
    texts,
    user_part,
)

REPLIED = "conversation.user.replied"


def conversation(
    conversation_id: str = "c1", parts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A conversation as `GET /conversations/{id}` returns it, with our parts."""
    conv = load_example("rest_api/conversation.json")
    conv["id"] = conversation_id
    conv["created_at"] = T0
    conv["source"]["author"] = {
        "type": "user",
        "id": "u1",
        "name": "Agatha",
        "email": AGATHA_EMAIL,
    }
    conv["source"]["body"] = "<p>My printer is on fire</p>"
    if parts is None:
        parts = [
            make_part("11", "comment", "<p>Hello Agatha</p>", T0 + 10, "admin", VICTOR_EMAIL, "V"),
            make_part(
                "12", "note", "<p>Call the fire brigade</p>", T0 + 20, "admin", VICTOR_EMAIL, "V"
            ),
            make_part("13", "comment", "<p>I am Fin</p>", T0 + 25, "bot", None, "Fin"),
            make_part("14", "open", None, T0 + 26, "admin", VICTOR_EMAIL, "V"),
            make_part("15", "assignment", "<p>Taking it</p>", T0 + 30, "admin", VICTOR_EMAIL, "V"),
            make_part("16", "close", "<p>closed</p>", T0 + 31, "admin", VICTOR_EMAIL, "V"),
            user_part("17", "Thanks!", T0 + 40),
        ]
    conv["conversation_parts"] = {
        "type": "conversation_part.list",
        "conversation_parts": copy.deepcopy(parts),
        "total_count": len(parts),
    }
    return conv


def bodies(fake_itop: FakeItop, ticket: int, attcode: str = "public_log") -> list[str]:
    return [t.split("\n\n", 1)[1] for t in texts(fake_itop, ticket, attcode)]


async def test_the_history_is_copied_in_order_to_the_right_logs(
    services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = fake_itop.add_ticket()
    fake_itop.calls.clear()
    plan = await plan_history(services, WORKSPACE, conversation(), ticket)
    assert fake_itop.calls == []  # nothing asked of iTop: the screen answers at once
    assert (plan.parts_seen, plan.parts_stored, plan.entries_planned) == (8, 8, 5)
    await drain(worker)
    assert bodies(fake_itop, ticket) == [
        "My printer is on fire",
        "Hello Agatha",
        "Taking it",
        "Thanks!",
    ]
    assert bodies(fake_itop, ticket, "private_log") == ["Call the fire brigade"]
    public = fake_itop.log_entries(ticket)
    assert [e["user_login"] for e in public] == [
        "Agatha Christie",
        "Victor Hugo",
        "Victor Hugo",
        "Agatha Christie",
    ]
    assert public[0]["date"] == "2026-01-10 09:01:40"


async def test_copying_twice_writes_each_entry_once(
    services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = fake_itop.add_ticket()
    await plan_history(services, WORKSPACE, conversation(), ticket)
    await drain(worker)
    again = await plan_history(services, WORKSPACE, conversation(), ticket)
    assert again.parts_stored == 0
    await drain(worker)
    assert len(texts(fake_itop, ticket)) == 4


async def test_parts_received_by_webhook_before_the_link_are_part_of_the_history(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    # Received while no ticket was linked: kept, not applied.
    await post_webhook(client, REPLIED, "c1", [user_part("99", "arrived by webhook", T0 + 50)])
    await drain(worker)
    ticket = fake_itop.add_ticket()
    # The snapshot the screen read does not have it yet.
    await plan_history(services, WORKSPACE, conversation(), ticket)
    await drain(worker)
    assert bodies(fake_itop, ticket)[-1] == "arrived by webhook"


async def test_a_webhook_for_a_copied_part_still_reaches_the_other_linked_tickets(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    older = link_ticket(fake_itop, "c1")
    new = fake_itop.add_ticket()
    part = user_part("17", "Thanks!", T0 + 40)
    # The screen copied the history (which already has part 17) before its webhook arrived.
    await plan_history(services, WORKSPACE, conversation(parts=[part]), new)
    await post_webhook(client, REPLIED, "c1", [part])
    await drain(worker)
    assert bodies(fake_itop, new) == ["My printer is on fire", "Thanks!"]
    assert bodies(fake_itop, older) == ["Thanks!"]


async def test_a_conversation_without_id_is_refused(services: Services) -> None:
    with pytest.raises(ValueError):
        await plan_history(services, WORKSPACE, {"type": "conversation"}, 1)
