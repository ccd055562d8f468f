"""`conversation_part.redacted`: a message deleted in Intercom is never copied afterwards."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.logs import configure
from itop_intercom.runtime import Services
from itop_intercom.store.tables import conversation_parts
from itop_intercom.sync.planner import plan_new_parts
from itop_intercom.sync.worker import Worker
from tests.fakes.itop import FakeItop
from tests.sync.conftest import T0, delivery_states, drain, link_ticket, post_webhook, user_part

REDACTED = "conversation_part.redacted"
REPLIED = "conversation.user.replied"
SECRET_TEXT = "<p>my card is 4111 1111 1111 1111</p>"


def redacted_part(part_id: str) -> dict[str, Any]:
    return {**user_part(part_id, "", T0), "redacted": True}


async def stored(services: Services) -> list[tuple[str, str | None, str | None]]:
    p = conversation_parts
    async with services.engine.connect() as conn:
        rows = (await conn.execute(sa.select(p.c.part_id, p.c.body, p.c.log))).all()
    return [(r.part_id, r.body, r.log) for r in rows]


async def test_a_part_redacted_before_it_is_planned_is_never_written(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("301", SECRET_TEXT, T0)])
    response = await post_webhook(client, REDACTED, "c1", [redacted_part("301")])
    assert response.status_code == 200
    assert response.json() == {
        "status": "redacted",
        "conversation": "c1",
        "parts": 1,
        "already_copied": 0,
    }
    await drain(worker)
    assert fake_itop.log_entries(ticket, "public_log") == []
    assert await stored(services) == [("301", None, None)]


async def test_a_pending_delivery_is_finished_without_writing(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("302", SECRET_TEXT, T0)])
    await plan_new_parts(services)
    assert await delivery_states(services) == {"pending": 1}
    await post_webhook(client, REDACTED, "c1", [redacted_part("302")])
    await drain(worker)
    assert fake_itop.log_entries(ticket, "public_log") == []


async def test_a_redaction_that_overtakes_its_message_still_wins(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REDACTED, "c1", [redacted_part("303")])
    response = await post_webhook(client, REPLIED, "c1", [user_part("303", SECRET_TEXT, T0)])
    assert response.json()["new"] == 0  # a duplicate of the emptied part
    await drain(worker)
    assert fake_itop.log_entries(ticket, "public_log") == []
    assert "4111" not in json.dumps(await stored(services))


async def test_a_part_already_copied_is_reported_once_for_each_ticket(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    worker: Worker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("info", "json")
    first, second = link_ticket(fake_itop, "c1"), link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("304", SECRET_TEXT, T0)])
    await drain(worker)
    capsys.readouterr()
    response = await post_webhook(client, REDACTED, "c1", [redacted_part("304")])
    assert response.json()["already_copied"] == 2
    warnings = [
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if "already copied to iTop" in line
    ]
    assert sorted(w["ticket"] for w in warnings) == [
        f"UserRequest::{first}",
        f"UserRequest::{second}",
    ]
    assert all("4111" not in json.dumps(w) for w in warnings)
    again = await post_webhook(client, REDACTED, "c1", [redacted_part("304")])
    assert again.json()["already_copied"] == 0
    assert await stored(services) == [("304", None, None)]
