"""A teammate name of any length still links and creates (the database keeps 255 characters)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import ticket_links
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox


@pytest.fixture
def language() -> str:
    return "en"


@pytest.fixture
def store_kind() -> str:
    return "local"  # the store that writes `linked_by` to our database


@pytest.mark.parametrize("name", ["N" * 256, "Ünïcødé " * 2000])
async def test_a_very_long_teammate_name_still_creates_and_links(
    inbox: Inbox, fake_itop: FakeItop, services: Services, name: str
) -> None:
    def long_name(body: dict[str, Any]) -> None:
        body["admin"]["name"] = name

    inbox.hook = long_name
    await inbox.initialize()
    await inbox.click("home:create")
    await inbox.click("form:submit", field__title="Printer", field__description="Broken")
    assert inbox.screen == "created"
    async with services.engine.connect() as conn:
        (linked_by,) = (await conn.execute(sa.select(ticket_links.c.linked_by))).one()
    assert linked_by == name[:255]
