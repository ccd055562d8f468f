"""`itop-intercom events list|show|replay` and `worker --once`: output and exit codes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from itop_intercom.cli import main
from itop_intercom.runtime import Services
from itop_intercom.sync import events
from itop_intercom.sync.planner import plan_new_parts
from itop_intercom.sync.worker import Worker
from tests.fakes.itop import FakeItop
from tests.sync.conftest import AGATHA_EMAIL, T0, drain, link_ticket, post_webhook, user_part

REPLIED = "conversation.user.replied"


async def one_dead_one_done(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> tuple[int, int]:
    link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "refused <b>text</b>", T0)])
    await post_webhook(client, REPLIED, "c1", [user_part("102", "fine", T0 + 1)])
    await post_webhook(client, REPLIED, "c9", [user_part("901", "nobody linked", T0)])
    await services.warmups.join()  # Home's warm-ups read iTop in the background
    await plan_new_parts(services)
    await worker.ctx.authors.resolve(AGATHA_EMAIL, "Agatha", "user")
    fake_itop.fail_next = [{"code": 100, "message": "Error: description: boom"}]
    await drain(worker)
    by_part = {e.part_id: e for e in await events.list_events(services.db)}
    return by_part["101"].id, by_part["102"].id


async def test_events_list_show_and_replay(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    worker: Worker,
    config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dead, done = await one_dead_one_done(client, services, fake_itop, worker)
    capsys.readouterr()

    assert await _run(["events", "list", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "STATE" in out and "LAST ERROR" in out
    assert f"{dead:>8}  dead" in out and "iTop refused core/update: description: boom" in out
    assert f"{done:>8}  done" in out

    assert await _run(["events", "list", "--config", config, "--state", "dead"]) == 0
    out = capsys.readouterr().out
    assert f"{dead:>8}  dead" in out and f"{done:>8}  done" not in out

    assert await _run(["events", "list", "--config", config, "--conversation", "c9"]) == 0
    out = capsys.readouterr().out
    assert "no events" in out
    assert "1 part(s) of this conversation were kept without being applied" in out

    assert await _run(["events", "show", str(dead), "--config", config]) == 0
    out = capsys.readouterr().out
    assert "state" in out and "dead" in out
    assert "conversation       c1" in out or "c1" in out
    assert "UserRequest::" in out
    assert "refused <b>text</b>" in out

    assert await _run(["events", "show", "999999", "--config", config]) == 1
    assert "no event 999999" in capsys.readouterr().err

    assert await _run(["events", "replay", str(done), "--config", config]) == 1
    assert "is done, not dead: not replayed" in capsys.readouterr().err

    assert await _run(["events", "replay", str(dead), "--config", config]) == 0
    assert "1 event(s) will be applied again" in capsys.readouterr().out
    await drain(worker)
    assert (await events.get_event(services.db, dead)).state == "done"  # type: ignore[union-attr]

    assert await _run(["events", "replay", "--dead", "--config", config]) == 0
    assert "no dead events" in capsys.readouterr().out


async def test_replay_needs_ids_or_dead(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await _run(["events", "replay", "--config", config]) == 2
    assert await _run(["events", "replay", "1", "--dead", "--config", config]) == 2


async def test_bad_settings_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[sync]\nunknown = 1\n", encoding="utf-8")
    assert await _run(["events", "list", "--config", str(path)]) == 1
    assert "sync.unknown" in capsys.readouterr().err


async def _run(argv: list[str]) -> int:
    """The commands call asyncio.run: run them in a thread, away from the test's loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)


async def test_worker_once_applies_what_is_due(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, config: str
) -> None:
    # Without iTop settings the worker still starts, plans nothing and exits cleanly.
    await post_webhook(client, REPLIED, "c1", [user_part("101", "x", T0)])
    assert await _run(["worker", "--once", "--config", config]) == 0


async def test_jobs_are_listed_and_replayed_too(
    services: Services, worker: Worker, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from itop_intercom.sync import jobs

    job_id = await jobs.enqueue(services.db, "test.commands.never", {})
    await jobs.claim(services.db, "x", 10, 60)
    async with services.engine.begin() as conn:
        import sqlalchemy as sa

        from itop_intercom.store.tables import jobs as jobs_t

        await conn.execute(sa.update(jobs_t).values(state="dead", last_error="gone for good"))
    assert await _run(["events", "list", "--jobs", "--config", config]) == 0
    out = capsys.readouterr().out
    assert f"{job_id:>8}  dead" in out and "test.commands.never" in out and "gone for good" in out
    assert await _run(["events", "replay", "--jobs", str(job_id), "--config", config]) == 0
    assert "1 job(s) will run again" in capsys.readouterr().out
    assert await _run(["events", "replay", "--jobs", str(job_id), "--config", config]) == 1
    assert "is pending, not dead" in capsys.readouterr().err
    assert await _run(["events", "list", "--jobs", "--state", "dead", "--config", config]) == 0
    assert "no jobs" in capsys.readouterr().out
