"""`events list` shows parts still waiting to be planned; `events show` survives odd old rows."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import conversation_parts, deliveries
from itop_intercom.sync import events
from itop_intercom.sync.planner import plan_new_parts
from itop_intercom.sync.worker import Worker
from tests.fakes.itop import FakeItop
from tests.fakes.signing import make_part
from tests.sync.conftest import T0, drain, link_ticket, post_webhook, user_part
from tests.sync.test_commands import _run

REPLIED = "conversation.user.replied"
#: The iTop fake shows dates in its own timezone, as iTop does.
PARIS = ZoneInfo("Europe/Paris")


async def test_parts_waiting_for_the_planner_are_listed_with_their_state(
    client: httpx.AsyncClient,
    config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for n in range(7):
        await post_webhook(client, REPLIED, f"c{n % 2}", [user_part(f"{500 + n}", "hello", T0 + n)])
    bot = make_part("600", "comment", "<p>auto</p>", T0, "bot", None, "Fin")
    await post_webhook(client, REPLIED, "c0", [bot])  # nothing to write: never waits
    capsys.readouterr()

    assert await _run(["events", "list", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "no events" not in out
    assert "7 part(s) received, not planned yet" in out
    assert out.count(" unplanned ") == 7
    assert "600" not in out

    assert await _run(["events", "list", "--config", config, "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count(" unplanned ") == 3 and "… and 4 more" in out

    assert await _run(["events", "list", "--config", config, "--conversation", "c1"]) == 0
    out = capsys.readouterr().out
    assert "3 part(s) received, not planned yet" in out

    for state in ("unplanned", "pending"):
        assert await _run(["events", "list", "--config", config, "--state", state]) == 0
        assert "7 part(s) received" in capsys.readouterr().out
    for state in ("done", "dead"):
        assert await _run(["events", "list", "--config", config, "--state", state]) == 0
        assert capsys.readouterr().out.strip() == "no events"


async def test_once_planned_they_become_events(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    worker: Worker,
    config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "hello", T0)])
    await plan_new_parts(services)
    capsys.readouterr()
    assert await _run(["events", "list", "--config", config, "--state", "unplanned"]) == 0
    assert capsys.readouterr().out.strip() == "no events"
    assert await _run(["events", "list", "--config", config]) == 0
    out = capsys.readouterr().out
    assert " pending " in out and "not planned yet" not in out
    await drain(worker)


@pytest.mark.parametrize("stored", [2**62, -(2**40), 2**53, -1])
async def test_times_stored_before_they_were_checked_break_nothing(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    worker: Worker,
    config: str,
    capsys: pytest.CaptureFixture[str],
    stored: int,
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "hello", T0)])
    await plan_new_parts(services)
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(conversation_parts).values(part_created_at=stored))
        await conn.execute(sa.update(deliveries).values(part_created_at=stored))
    (event,) = await events.list_events(services.db)
    capsys.readouterr()
    assert await _run(["events", "show", str(event.id), "--config", config]) == 0
    out = capsys.readouterr().out
    assert "written in Intercom" in out
    assert "Traceback" not in out
    assert await _run(["events", "list", "--config", config]) == 0
    # The worker writes the entry, dated when the part was received.
    await drain(worker)
    assert (await events.get_event(services.db, event.id)).state == "done"  # type: ignore[union-attr]
    (entry,) = fake_itop.log_entries(ticket, "public_log")
    assert entry["date"].startswith(datetime.now(UTC).astimezone(PARIS).strftime("%Y-%m-%d"))
