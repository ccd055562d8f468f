"""Agents working at the same time: concurrent screens and sync writes share one iTop client.

iTop sets a PHP session cookie on every answer and refuses ("Invalid login") a call whose session
is in use by another call in flight; the fake does the same. A client that kept cookies would
turn a burst of agents into error canvases and the sync's writes into retries.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from itop_intercom.runtime import Services
from tests.conftest import CLIENT_SECRET, WORKSPACE
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox

AGENTS = 24
AT_ONCE = 6


async def test_burst_of_screens_and_sync_writes_gets_no_refusal(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    ticket = fake_itop.add_ticket(title="Printer")
    fake_itop.latency = 0.01  # keeps calls in flight long enough to overlap
    gate = asyncio.Semaphore(AT_ONCE)
    screens: list[str | None] = []

    async def agent(number: int) -> None:
        async with gate:
            inbox = Inbox(client, WORKSPACE, CLIENT_SECRET, conversation_id=f"7100{number:04d}")
            await inbox.initialize()
            screens.append(inbox.screen)
            if inbox.screen == "home":
                await inbox.click("home:ongoing")
                screens.append(inbox.screen)

    async def sync_write(number: int) -> None:
        async with gate:
            await services.tickets.add_caselog_entry(
                ticket,
                "public_log",
                f"<p>message {number}</p>",
                author_email=None,
                author_label="Agatha Christie",
                date=datetime.now(UTC),
                comment="itop-intercom test",
            )

    outcomes = await asyncio.gather(
        *(agent(n) for n in range(AGENTS)),
        *(sync_write(n) for n in range(AGENTS // 2)),
        return_exceptions=True,
    )

    assert [repr(o) for o in outcomes if o is not None] == []
    assert fake_itop.sessions.refused == 0
    assert sorted(screens, key=str) == ["home"] * AGENTS + ["list"] * AGENTS
    assert len(fake_itop.log_entries(ticket)) == AGENTS // 2
    # No retried write: each entry was sent exactly once.
    updates = [c for c in fake_itop.calls if c["operation"] == "core/update"]
    assert len(updates) == AGENTS // 2
