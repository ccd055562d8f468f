"""Helpers of the sync tests: post signed webhooks, link tickets in the iTop fake, run a worker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import conversation_parts, deliveries
from itop_intercom.sync.worker import Worker
from tests.conftest import CLIENT_SECRET, WORKSPACE
from tests.fakes.itop import FakeItop
from tests.fakes.signing import make_part, signed_webhook, webhook_body

WEBHOOK = "/intercom/webhooks"
T0 = 1_768_032_100
#: Persons and users of the iTop fake's lab seed (transcripts 007-010).
AGATHA_EMAIL = "agatha.christie@demo.com"
VICTOR_EMAIL = "victor.hugo@it.com"


async def post_webhook(
    client: httpx.AsyncClient,
    topic: str,
    conversation_id: str,
    parts: Sequence[dict[str, Any]],
    *,
    notification_id: str | None = None,
    workspace: str = WORKSPACE,
    secret: str = CLIENT_SECRET,
) -> httpx.Response:
    body = webhook_body(workspace, topic, conversation_id, parts, notification_id)
    raw, headers = signed_webhook(body, secret)
    return await client.post(WEBHOOK, content=raw, headers=headers)


def user_part(part_id: str | int, body: str, created_at: int, **kwargs: Any) -> dict[str, Any]:
    return make_part(part_id, "comment", body, created_at, "user", AGATHA_EMAIL, "Agatha", **kwargs)


def admin_reply(part_id: str | int, body: str, created_at: int) -> dict[str, Any]:
    return make_part(part_id, "comment", body, created_at, "admin", VICTOR_EMAIL, "Victor Hugo")


def admin_note(part_id: str | int, body: str, created_at: int) -> dict[str, Any]:
    return make_part(part_id, "note", body, created_at, "admin", VICTOR_EMAIL, "Victor Hugo")


def link_ticket(fake_itop: FakeItop, conversation_id: str, *, sync: bool = True) -> int:
    """A ticket linked to the conversation with the extension's fields (the intercom instance)."""
    return fake_itop.add_ticket(
        intercom_ref=conversation_id,
        intercom_url=f"https://app.intercom.com/a/apps/{WORKSPACE}/conversations/{conversation_id}",
        intercom_sync_activated="yes" if sync else "no",
    )


def set_sync(fake_itop: FakeItop, ticket_id: int, sync: bool) -> None:
    body = fake_itop.api(
        {
            "operation": "core/update",
            "comment": "test",
            "class": "UserRequest",
            "key": ticket_id,
            "fields": {"intercom_sync_activated": "yes" if sync else "no"},
            "output_fields": "id",
        }
    )
    assert body["code"] == 0, body


def texts(fake_itop: FakeItop, ticket_id: int, attcode: str = "public_log") -> list[str]:
    """The plain-text rendering of each entry of a log, in insertion order."""
    return [str(e["message"]) for e in fake_itop.log_entries(ticket_id, attcode)]


async def drain(worker: Worker, rounds: int = 50) -> None:
    """Run the worker until a round finds nothing to do."""
    for _ in range(rounds):
        if not await worker.run_once():
            return
    raise AssertionError("the worker still had work after many rounds")


async def count(services: Services, table: sa.Table, *where: Any) -> int:
    async with services.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        if where:
            query = query.where(*where)
        return int((await conn.execute(query)).scalar_one())


async def delivery_states(services: Services) -> dict[str, int]:
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(deliveries.c.state, sa.func.count()).group_by(deliveries.c.state)
            )
        ).all()
    return {str(state): int(n) for state, n in rows}


async def parts_plan(services: Services) -> dict[str, str]:
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(sa.select(conversation_parts.c.part_id, conversation_parts.c.plan))
        ).all()
    return {str(p): str(plan) for p, plan in rows}


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> str:
    """A settings file on the test database, for the CLI commands."""
    path = tmp_path / "itop-intercom.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[workspaces.{WORKSPACE}]\nscope = "SELECT Person"\nclient_secret = "{CLIENT_SECRET}"\n',
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture
def worker(services: Services) -> Worker:
    return Worker(services, owner="test-worker")
