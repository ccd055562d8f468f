"""Exactly once, in order, whatever happens: restarts, a crash between the post and its
bookkeeping, Intercom's 429 and 5xx, dead letters and their replay, two workers at once."""

from __future__ import annotations

import asyncio
import io
import time
from argparse import Namespace
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import backsync_outbox
from itop_intercom.sync.back import outbox, sender
from itop_intercom.sync.back.commands import outbound_list, outbound_replay
from itop_intercom.sync.back.runner import BacksyncRunner
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.sync.back.conftest import Start, cycle, expire_leases, linked, replies


def _bodies(intercom: FakeIntercom, conversation: str) -> list[str]:
    return [r["body"].split("</p>")[0].removeprefix("<p>") for r in replies(intercom, conversation)]


async def _states(services: Services) -> list[str]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(sa.select(backsync_outbox.c.state).order_by(backsync_outbox.c.id))
        return [str(r.state) for r in rows]


@pytest.fixture
async def fast(start: Start) -> AsyncIterator[Services]:
    """Services whose retries come due at once."""
    async with start(sync={"settle_seconds": 0, "retry_base_seconds": 0.001}) as built:
        yield built


async def test_a_restart_between_poll_and_post_posts_each_entry_once(
    start: Start, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    ticket = linked(fake_itop, "501")
    async with start() as first:
        runner = BacksyncRunner(first, "before-restart")
        await cycle(runner)
        for n in range(3):
            fake_itop.ui_add_entry(ticket, f"<p>entry {n}</p>")
        assert await runner.poll() is not None  # stored in the outbox, then the process stops
    fake_itop.ui_add_entry(ticket, "<p>entry 3</p>")  # written while nothing runs
    async with start() as second:
        await expire_leases(second)
        after = BacksyncRunner(second, "after-restart")
        await cycle(after)
        await cycle(after)
        assert _bodies(intercom, "501") == ["entry 0", "entry 1", "entry 2", "entry 3"]


async def test_a_crash_after_the_post_does_not_post_it_again(
    fast: Services, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    runner = BacksyncRunner(fast, "dies")
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>posted just before the crash</p>")
    await runner.poll()
    [[workspace, conversation]] = await outbox.claim(fast.db, "dies", 10, 30)
    [row] = await outbox.pending(fast.db, workspace, conversation)
    await sender._post(fast, "dies", row)  # posted; the process dies before recording it
    assert len(replies(intercom, "501")) == 1
    await expire_leases(fast)
    survivor = BacksyncRunner(fast, "survivor")
    await survivor.send_due()
    assert len(replies(intercom, "501")) == 1
    assert await _states(fast) == ["done"]
    assert fast.metrics.backsync_posts.labels("reply", "recovered")._value.get() == 1


async def test_an_answer_lost_after_intercom_stored_the_reply_does_not_double_it(
    fast: Services, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    runner = BacksyncRunner(fast, "w")
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    fake_itop.ui_add_entry(ticket, "<p>one</p>")
    fake_itop.ui_add_entry(ticket, "<p>two</p>")
    intercom.lose_answer_next = 1  # "one" is stored by Intercom, then answered 502
    await cycle(runner)
    await asyncio.sleep(0.05)
    await runner.send_due()
    # The retry of "one" found it in the conversation instead of posting it again.
    assert _bodies(intercom, "501") == ["one", "two"]
    assert await _states(fast) == ["done", "done"]


async def test_rate_limits_are_waited_out_and_order_is_kept(
    fast: Services, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    runner = BacksyncRunner(fast, "w")
    ticket = linked(fake_itop, "501")
    await cycle(runner)
    for n in range(3):
        fake_itop.ui_add_entry(ticket, f"<p>{n}</p>")
    intercom.rate_limit_reset_in = 0.0
    intercom.rate_limit_next = 5  # more than the client sits out on its own (3)
    await cycle(runner)
    deadline = time.monotonic() + 10
    while "pending" in await _states(fast) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        await runner.send_due()
    assert _bodies(intercom, "501") == ["0", "1", "2"]
    assert fast.metrics.backsync_posts.labels("reply", "retry")._value.get() >= 1


async def test_a_post_that_keeps_failing_becomes_a_dead_letter_and_can_be_replayed(
    start: Start, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    async with start(sync={"max_age_hours": 0.00001, "retry_base_seconds": 0.001}) as services:
        runner = BacksyncRunner(services, "w")
        ticket = linked(fake_itop, "501")
        await cycle(runner)
        fake_itop.ui_add_entry(ticket, "<p>lost?</p>")
        intercom.fail_status = 500
        await cycle(runner)
        await asyncio.sleep(0.1)
        await runner.send_due()
        assert await _states(services) == ["dead"]
        out = io.StringIO()
        args = Namespace(state="dead", conversation=None, limit=50)
        await outbound_list(services.db, args, out)
        assert (
            "dead" in out.getvalue() and "reply" in out.getvalue() and "HTTP 500" in out.getvalue()
        )
        intercom.fail_status = None
        [row_id] = [int(line.split()[0]) for line in out.getvalue().splitlines()[1:]]
        code = await outbound_replay(services.db, [row_id], False, io.StringIO(), io.StringIO())
        assert code == 0
        await runner.send_due()
        await runner.send_due()
        # The 500s may have stored it (Intercom answered after storing it, or not): posted once.
        assert len(replies(intercom, "501")) == 1
        assert await _states(services) == ["done"]


async def test_two_workers_never_post_the_same_change(
    start: Start, fake_itop: FakeItop, intercom: FakeIntercom
) -> None:
    async with start() as a, start() as b:
        first, second = BacksyncRunner(a, "worker-a"), BacksyncRunner(b, "worker-b")
        tickets = {c: linked(fake_itop, c) for c in ("501", "502", "503")}
        await asyncio.gather(first.poll(), second.poll())
        for n in range(5):
            for conversation, ticket in tickets.items():
                fake_itop.ui_add_entry(ticket, f"<p>{conversation}-{n}</p>")
        intercom.latency = 0.01
        polls = await asyncio.gather(first.poll(), second.poll())
        assert sorted(p.polled for p in polls if p is not None) == [False, True]
        await asyncio.gather(
            first.send_due(), second.send_due(), first.send_due(), second.send_due()
        )
        for conversation in tickets:
            assert _bodies(intercom, conversation) == [f"{conversation}-{n}" for n in range(5)]
        assert len(intercom.replies) == 15
