"""Webhook intake: every part stored once, answered before any call out, honest statuses."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from itop_intercom.intercom.signatures import webhook_signature
from itop_intercom.logs import configure
from itop_intercom.runtime import Services
from itop_intercom.store.tables import conversation_parts, deliveries
from itop_intercom.sync import groupcommit
from tests.conftest import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    OTHER_CLIENT_SECRET,
    OTHER_WORKSPACE,
    WORKSPACE,
)
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.fakes.signing import make_attachment, make_part, signed_webhook, webhook_body
from tests.sync.conftest import (
    AGATHA_EMAIL,
    T0,
    WEBHOOK,
    admin_note,
    admin_reply,
    count,
    post_webhook,
    user_part,
)

REPLIED = "conversation.user.replied"


async def stored(services: Services) -> list[dict[str, Any]]:
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(sa.select(conversation_parts).order_by(conversation_parts.c.id))
        ).all()
    return [dict(r._mapping) for r in rows]


async def test_every_part_of_a_notification_is_stored_before_the_answer(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
) -> None:
    attachment = make_attachment("invoice.pdf", "https://downloads.intercomcdn.test/x.pdf")
    parts = [
        user_part("101", "<p>first</p>", T0),
        user_part("102", "second, plain text <3", T0 + 1, attachments=[attachment]),
        make_part("103", "comment", "<p>bot</p>", T0 + 2, "bot", None, "Operator"),
    ]
    response = await post_webhook(client, REPLIED, "c1", parts, notification_id="notif_a")
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "conversation": "c1", "parts": 3, "new": 3}
    rows = await stored(services)
    assert [r["part_id"] for r in rows] == ["101", "102", "103"]
    first, second, bot = rows
    assert first["workspace_id"] == WORKSPACE
    assert first["conversation_id"] == "c1"
    assert first["notification_id"] == "notif_a"
    assert first["topic"] == REPLIED
    assert first["part_type"] == "comment"
    assert (first["author_type"], first["author_name"], first["author_email"]) == (
        "user",
        "Agatha",
        AGATHA_EMAIL,
    )
    assert first["body"] == "<p>first</p>"
    assert first["part_created_at"] == T0
    assert first["log"] == "public"
    assert first["plan"] == "new"
    assert second["body"] == "second, plain text <3"
    assert second["attachments"] == [
        {
            "name": "invoice.pdf",
            "url": "https://downloads.intercomcdn.test/x.pdf",
            "content_type": "application/pdf",
            "filesize": 12345,
        }
    ]
    assert bot["log"] is None  # kept, never written
    # Nothing was asked of iTop or Intercom to answer; only Home's background warm-up read the
    # contact and the tickets afterwards, and wrote nothing.
    await services.warmups.join()
    assert {call["operation"] for call in fake_itop.calls} <= {"core/get"}
    assert {(call.method, call.path.split("/")[1]) for call in fake_intercom.calls} <= {
        ("GET", "contacts")
    }


async def test_notes_go_to_the_private_log_and_replies_to_the_public_one(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_webhook(client, "conversation.admin.noted", "c1", [admin_note("1", "n", T0)])
    await post_webhook(client, "conversation.admin.replied", "c1", [admin_reply("2", "r", T0)])
    assignment = make_part("3", "assignment", "<p>hi</p>", T0, "admin", "v@x.example", "V")
    await post_webhook(client, "conversation.admin.replied", "c1", [assignment])
    logs = {r["part_id"]: r["log"] for r in await stored(services)}
    assert logs == {"1": "private", "2": "public", "3": "public"}


async def test_the_same_notification_twice_is_stored_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    parts = [user_part("101", "a", T0), user_part("102", "b", T0 + 1)]
    first = await post_webhook(client, REPLIED, "c1", parts, notification_id="notif_x")
    again = await post_webhook(client, REPLIED, "c1", parts, notification_id="notif_x")
    assert first.json()["new"] == 2
    assert again.status_code == 200
    assert again.json() == {"status": "accepted", "conversation": "c1", "parts": 2, "new": 0}
    assert await count(services, conversation_parts) == 2


async def test_the_same_part_in_two_notifications_is_stored_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post_webhook(client, REPLIED, "c1", [user_part("101", "a", T0)])
    second = await post_webhook(
        client, REPLIED, "c1", [user_part("101", "a", T0), user_part("102", "b", T0 + 1)]
    )
    assert second.json()["new"] == 1
    assert sorted(r["part_id"] for r in await stored(services)) == ["101", "102"]


async def test_part_ids_are_only_unique_per_workspace_and_conversation(
    client: httpx.AsyncClient, services: Services
) -> None:
    part = user_part("101", "a", T0)
    await post_webhook(client, REPLIED, "c1", [part])
    await post_webhook(client, REPLIED, "c2", [part])
    other = await post_webhook(
        client, REPLIED, "c1", [part], workspace=OTHER_WORKSPACE, secret=OTHER_CLIENT_SECRET
    )
    assert other.json()["new"] == 1
    keys = {(r["workspace_id"], r["conversation_id"]) for r in await stored(services)}
    assert keys == {(WORKSPACE, "c1"), (WORKSPACE, "c2"), (OTHER_WORKSPACE, "c1")}


async def test_concurrent_notifications_share_commits_and_stay_exact(
    client: httpx.AsyncClient, services: Services
) -> None:
    # 60 notifications at once, each part sent twice: 30 distinct parts.
    posts = [
        post_webhook(client, REPLIED, f"c{i % 5}", [user_part(str(1000 + i % 30), "x", T0)])
        for i in range(60)
    ]
    responses = await asyncio.gather(*posts)
    assert {r.status_code for r in responses} == {200}
    assert await count(services, conversation_parts) == 30
    assert sum(r.json()["new"] for r in responses) == 30


async def test_ping_and_unsupported_topics_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, services: Services
) -> None:
    ping = await post_webhook(client, "ping", "c1", [])
    assert (ping.status_code, ping.json()) == (200, {"status": "ok"})
    closed = await post_webhook(
        client, "conversation.admin.closed", "c1", [admin_reply("1", "bye", T0)]
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "unsupported"
    assert await count(services, conversation_parts) == 0


async def test_a_notification_without_parts_is_acknowledged(
    client: httpx.AsyncClient, services: Services
) -> None:
    response = await post_webhook(client, REPLIED, "c1", [])
    assert response.status_code == 200
    assert response.json()["parts"] == 0


def _signed(data: dict[str, Any], secret: str = CLIENT_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(data).encode()
    return raw, {
        "Content-Type": "application/json",
        "X-Hub-Signature": webhook_signature(raw, secret),
    }


def _valid() -> dict[str, Any]:
    return webhook_body(WORKSPACE, REPLIED, "c1", [user_part("101", "hello body", T0)])


def _malformed() -> list[tuple[str, dict[str, Any]]]:
    not_conversation = _valid()
    not_conversation["data"]["item"] = {"type": "contact", "id": "x"}
    no_item_id = _valid()
    del no_item_id["data"]["item"]["id"]
    part_without_id = _valid()
    del part_without_id["data"]["item"]["conversation_parts"]["conversation_parts"][0]["id"]
    no_topic = _valid()
    del no_topic["topic"]
    long_id = _valid()
    long_id["data"]["item"]["conversation_parts"]["conversation_parts"][0]["id"] = "9" * 65
    return [
        ("item is not a conversation", not_conversation),
        ("conversation without id", no_item_id),
        ("part without id", part_without_id),
        ("no topic", no_topic),
        ("part id too long", long_id),
    ]


@pytest.fixture
def _json_logs() -> None:
    configure("debug", "json")


@pytest.mark.usefixtures("_json_logs")
async def test_bad_inputs_are_refused_with_nothing_stored_and_nothing_secret_logged(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw, headers = _signed(_valid())
    unknown_raw, unknown_headers = _signed({**_valid(), "app_id": "unknownws"})
    no_app_raw, no_app_headers = _signed({k: v for k, v in _valid().items() if k != "app_id"})
    big = raw[:-1] + b', "padding": "' + b"x" * (1024 * 1024) + b'"}'
    cases: list[tuple[str, bytes, dict[str, str], int]] = [
        ("missing signature", raw, {"Content-Type": "application/json"}, 401),
        ("wrong signature", raw, {"X-Hub-Signature": "sha1=" + "0" * 40}, 401),
        ("sha256 instead of sha1", raw, {"X-Hub-Signature": "sha256=" + "0" * 64}, 401),
        ("other workspace's secret", raw, _signed(_valid(), OTHER_CLIENT_SECRET)[1], 401),
        ("body changed after signing", raw + b" ", headers, 401),
        ("unknown workspace", unknown_raw, unknown_headers, 403),
        ("no app_id", no_app_raw, no_app_headers, 400),
        ("not JSON", b"{nope", _signed_raw(b"{nope"), 400),
        ("not an object", b"[]", _signed_raw(b"[]"), 400),
        ("too large", big, _signed_raw(big), 413),
    ]
    cases += [(label, *_signed(data), 400) for label, data in _malformed()]
    for label, body, hdrs, status in cases:
        response = await client.post(WEBHOOK, content=body, headers=hdrs)
        assert response.status_code == status, label
        assert "Traceback" not in response.text
    assert await count(services, conversation_parts) == 0
    assert await count(services, deliveries) == 0
    assert fake_itop.calls == []
    # The same notification, correctly signed, is stored: the refusals above were real.
    accepted = await client.post(WEBHOOK, content=raw, headers=headers)
    assert accepted.status_code == 200
    assert await count(services, conversation_parts) == 1
    logged = capsys.readouterr().err
    for secret in (CLIENT_SECRET, OTHER_CLIENT_SECRET, ACCESS_TOKEN, ADMIN_TOKEN):
        assert secret not in logged
    assert "hello body" not in logged


def _signed_raw(raw: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": webhook_signature(raw, CLIENT_SECRET),
    }


async def test_a_storage_failure_answers_503_so_that_intercom_retries(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(
        self: groupcommit.PartWriter, conn: Any, rows: list[dict[str, Any]]
    ) -> set[Any]:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(groupcommit.PartWriter, "_insert", broken)
    response = await post_webhook(client, REPLIED, "c1", [user_part("101", "a", T0)])
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "conversation": "c1"}
    monkeypatch.undo()
    retried = await post_webhook(client, REPLIED, "c1", [user_part("101", "a", T0)])
    assert retried.status_code == 200
    assert retried.json()["new"] == 1


async def test_intake_is_counted_by_topic_and_outcome(
    client: httpx.AsyncClient, services: Services
) -> None:
    part = user_part("101", "a", T0)
    await post_webhook(client, REPLIED, "c1", [part])
    await post_webhook(client, REPLIED, "c1", [part])
    await post_webhook(client, "ping", "c1", [])
    text = (await client.get("/metrics")).text
    intake = "itop_intercom_webhook_intake_total"
    assert f'{intake}{{outcome="accepted",topic="{REPLIED}"}} 1.0' in text
    assert f'{intake}{{outcome="duplicate",topic="{REPLIED}"}} 1.0' in text
    assert 'itop_intercom_webhook_intake_total{outcome="ping",topic="ping"} 1.0' in text
    assert "itop_intercom_parts_pending 1.0" in text


async def test_raw_bodies_with_intercom_escapes_are_accepted(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = webhook_body(WORKSPACE, REPLIED, "c1", [user_part("101", "<p>a & b</p>", T0)])
    raw, headers = signed_webhook(body, CLIENT_SECRET)
    assert b"\\u003c" in raw
    response = await client.post(WEBHOOK, content=raw, headers=headers)
    assert response.status_code == 200
    assert (await stored(services))[0]["body"] == "<p>a & b</p>"
