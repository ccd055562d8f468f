"""Helpers of the back-sync tests: conversations in the Intercom fake, linked tickets in the iTop
fake (both link stores), a runner, and what Intercom received."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import backsync_conversations, backsync_cursor
from itop_intercom.sync.back.runner import BacksyncRunner
from tests.conftest import WORKSPACE, SettingsFactory
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.signing import load_example
from tests.service import services_on
from tests.sync.conftest import link_ticket

#: An Intercom admin with Victor Hugo's email (an iTop agent who is also an Intercom teammate).
VICTOR_ADMIN = "7005"
#: The admin who owns the fake's access token (`GET /me`), who posts for everyone else.
TOKEN_ADMIN = "5130001"


def add_conversation(fake_intercom: FakeIntercom, conversation_id: str) -> str:
    conversation = load_example("rest_api/conversation.json")
    conversation["id"] = conversation_id
    conversation["conversation_parts"]["conversation_parts"] = []
    return fake_intercom.add_conversation(conversation)


@pytest.fixture
def intercom(fake_intercom: FakeIntercom) -> FakeIntercom:
    fake_intercom.add_admin(
        {"type": "admin", "id": VICTOR_ADMIN, "name": "Victor Hugo", "email": "Victor.Hugo@it.com"}
    )
    for conversation_id in ("501", "502", "503"):
        add_conversation(fake_intercom, conversation_id)
    return fake_intercom


@pytest.fixture
def runner(services: Services, intercom: FakeIntercom) -> BacksyncRunner:
    return BacksyncRunner(services, "worker-1")


def linked(fake_itop: FakeItop, conversation_id: str, *, sync: bool = True) -> int:
    """A ticket linked in iTop's own fields (the extension's datamodel)."""
    return link_ticket(fake_itop, conversation_id, sync=sync)


async def link_locally(services: Services, conversation_id: str, ticket_id: int) -> None:
    store = await services.link_store()
    assert store.kind == "local"
    await store.link(WORKSPACE, conversation_id, ticket_id, "", "tester")


def replies(
    fake_intercom: FakeIntercom, conversation_id: str | None = None
) -> list[dict[str, Any]]:
    return [
        r
        for r in fake_intercom.replies
        if conversation_id is None or r["conversation_id"] == conversation_id
    ]


async def cycle(runner: BacksyncRunner) -> None:
    """One poll, then everything due is posted."""
    result = await runner.poll()
    assert result is not None, "the poll failed"
    await runner.send_due()


async def expire_leases(services: Services) -> None:
    """As if the instance holding them had died long ago."""
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(backsync_cursor).values(lease_until=0))
        await conn.execute(sa.update(backsync_conversations).values(lease_until=0))


Start = Callable[..., AbstractAsyncContextManager[Services]]


@pytest.fixture
def start(make_settings: SettingsFactory, fake_itop: FakeItop, intercom: FakeIntercom) -> Start:
    """Services built from `make_settings(**overrides)` on the fakes, closed afterwards."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Services]:
        services = services_on(make_settings(**overrides), fake_itop, intercom)
        try:
            yield services
        finally:
            await services.aclose()

    return factory
