"""Real payload shapes: redacted parts, admins known only by id, plain text, `translations`."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from itop_intercom.runtime import Services
from itop_intercom.store.tables import deliveries, sync_conversations
from itop_intercom.sync.intake import part_rows
from itop_intercom.sync.worker import Worker
from tests.conftest import CLIENT_SECRET, WORKSPACE
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.signing import load_example, make_attachment, make_part, signed_webhook
from tests.sync.conftest import (
    T0,
    VICTOR_EMAIL,
    delivery_states,
    drain,
    link_ticket,
    post_webhook,
    texts,
    user_part,
)

NOW = datetime(2026, 1, 10, tzinfo=UTC)
LEGACY_NOTE = "webhooks/conversation.admin.noted.v1.json"
LEGACY_REPLY = "webhooks/conversation.admin.replied.v1.json"
V2_NOTE = "webhooks/conversation.admin.noted.json"
V2_REPLY = "webhooks/conversation.user.replied.json"


def redacted(part: dict[str, Any]) -> dict[str, Any]:
    return {**part, "redacted": True}


@pytest.mark.parametrize(
    "example",
    [LEGACY_NOTE, LEGACY_REPLY, V2_NOTE, V2_REPLY],
)
def test_redacted_parts_of_every_shape_are_kept_without_content(example: str) -> None:
    body = load_example(example)
    parts = body["data"]["item"]["conversation_parts"]["conversation_parts"]
    parts[0] = redacted(parts[0])
    parts[0]["attachments"] = [make_attachment("secret.pdf", "https://x.example/secret.pdf")]
    rows = part_rows(WORKSPACE, body, received_at=NOW)
    assert len(rows) == 1
    assert rows[0]["log"] is None
    assert rows[0]["body"] is None
    assert rows[0]["attachments"] == []
    # The same part not redacted is written.
    parts[0]["redacted"] = False
    assert part_rows(WORKSPACE, body, received_at=NOW)[0]["log"] in ("public", "private")


async def test_redacted_parts_never_reach_a_case_log(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(
        client,
        "conversation.user.replied",
        "c1",
        [
            redacted(user_part("201", "<p>my card is 4111 1111 1111 1111</p>", T0)),
            user_part("202", "<p>sorry, ignore that</p>", T0 + 1),
            redacted(user_part("203", "", T0 + 2)),
            redacted(make_part("204", "note", "<p>hidden</p>", T0 + 3, "admin", VICTOR_EMAIL, "V")),
        ],
    )
    await drain(worker)
    logged = texts(fake_itop, ticket) + texts(fake_itop, ticket, "private_log")
    assert len(logged) == 1 and "sorry, ignore that" in logged[0]
    assert "4111" not in "".join(logged)


# -- admins known only by id --------------------------------------------------------------------


def legacy_note(conversation_id: str, part_id: str, admin_id: str, body: str) -> dict[str, Any]:
    note = load_example(LEGACY_NOTE)
    note["app_id"] = WORKSPACE
    note["data"]["item"]["id"] = conversation_id
    part = note["data"]["item"]["conversation_parts"]["conversation_parts"][0]
    part.update(id=part_id, body=body)
    part["author"] = {"type": "admin", "id": admin_id, "name": "Bruno Petit"}
    note["id"] = f"notif_{part_id}"
    return note


def add_victor(fake_intercom: FakeIntercom, admin_id: str) -> None:
    """Victor Hugo as an Intercom teammate (his email is an iTop user's)."""
    fake_intercom.add_admin({"type": "admin", "id": admin_id, "name": "V H", "email": VICTOR_EMAIL})


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    raw, headers = signed_webhook(body, CLIENT_SECRET)
    response = await client.post("/intercom/webhooks", content=raw, headers=headers)
    assert response.status_code == 200, response.text


async def test_an_admin_without_email_is_attributed_through_intercom_once(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    worker: Worker,
) -> None:
    add_victor(fake_intercom, "1957471")
    ticket = link_ticket(fake_itop, "21330067382")
    for n in range(3):
        await post(client, legacy_note("21330067382", f"28269049{n}", "1957471", f"<p>n{n}</p>"))
    await drain(worker)
    entries = fake_itop.log_entries(ticket, "private_log")
    assert [e["user_id"] for e in entries] == ["5", "5", "5"]  # Victor Hugo's iTop user
    lookups = [c for c in fake_intercom.calls if c.path.startswith("/admins/")]
    assert [c.path for c in lookups] == ["/admins/1957471"]


async def test_an_admin_intercom_does_not_know_is_written_under_the_name(
    client: httpx.AsyncClient, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "21330067382")
    await post(client, legacy_note("21330067382", "1", "404404", "<p>who am I</p>"))
    await drain(worker)
    (entry,) = fake_itop.log_entries(ticket, "private_log")
    assert (entry["user_id"], entry["user_login"]) == (0, "Bruno Petit (Intercom)")


async def test_an_intercom_outage_delays_the_entry_instead_of_losing_its_author(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    worker: Worker,
) -> None:
    add_victor(fake_intercom, "77")
    ticket = link_ticket(fake_itop, "21330067382")
    await post(client, legacy_note("21330067382", "2", "77", "<p>later</p>"))
    fake_intercom.fail_status = 503
    await worker.run_once()
    assert fake_itop.log_entries(ticket, "private_log") == []
    assert (await delivery_states(services)) == {"pending": 1}
    fake_intercom.fail_status = None
    async with services.engine.begin() as conn:  # the retry is due now
        await conn.execute(deliveries.update().values(due_at=0))
        await conn.execute(sync_conversations.update().values(due_at=0))
    await drain(worker)
    (entry,) = fake_itop.log_entries(ticket, "private_log")
    assert entry["user_id"] == "5"


# -- plain text (API 2.15+) and translations (2.16) ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("a < b and c > d", "a < b and c > d"),
        ("I <3 you", "I <3 you"),
        ("<script>alert(1)</script> is what I typed", "<script>alert(1)</script> is what I typed"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("see https://x.example/?a=1&b=2", "https://x.example/?a=1&b=2"),  # a link
    ],
)
async def test_plain_text_bodies_are_written_as_typed(
    client: httpx.AsyncClient, fake_itop: FakeItop, worker: Worker, body: str, shown: str
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, "conversation.user.replied", "c1", [user_part("1", body, T0)])
    await drain(worker)
    (entry,) = fake_itop.log_entries(ticket, "public_log")
    assert shown in entry["message"]
    assert "<script" not in entry["message_html"]


@pytest.mark.parametrize(
    "translations",
    [
        {"original": "en", "en": "<p>Okay!</p>", "fr": "<p>D'accord!</p>"},
        {},
        None,
        [{"locale": "fr", "body": "x"}],
        {"original": "de"},
    ],
)
async def test_parts_with_translations_are_stored_with_their_body(
    client: httpx.AsyncClient, fake_itop: FakeItop, worker: Worker, translations: Any
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    part = user_part("1", "<p>Okay!</p>", T0)
    part["translations"] = copy.deepcopy(translations)
    response = await post_webhook(client, "conversation.user.replied", "c1", [part])
    assert response.status_code == 200
    # The 2.16 topic for the translated copy of a reply is acknowledged and not written twice.
    response = await post_webhook(client, "conversation.admin.replied.translated", "c1", [part])
    assert response.json()["status"] == "unsupported"
    await drain(worker)
    assert [t.rsplit("\n\n", 1)[-1] for t in texts(fake_itop, ticket)] == ["Okay!"]
