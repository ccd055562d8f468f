"""The worker end to end: webhook → database → iTop case logs, once, in order, nothing lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import deliveries, sync_conversations
from itop_intercom.sync import events, queue
from itop_intercom.sync.apply import Finished
from itop_intercom.sync.planner import plan_new_parts
from itop_intercom.sync.queue import Delivery, planning
from itop_intercom.sync.worker import Worker, start_in_app
from tests.conftest import ServiceFactory, SettingsFactory
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.signing import make_attachment, make_part
from tests.service import services_on
from tests.sync.conftest import (
    AGATHA_EMAIL,
    T0,
    admin_note,
    admin_reply,
    count,
    delivery_states,
    drain,
    link_ticket,
    parts_plan,
    post_webhook,
    set_sync,
    texts,
    user_part,
)

REPLIED = "conversation.user.replied"


def bodies(fake_itop: FakeItop, ticket_id: int, attcode: str = "public_log") -> list[str]:
    """The message of each entry without the header line."""
    return [
        t.split("\n\n", 1)[1] if "\n\n" in t else t for t in texts(fake_itop, ticket_id, attcode)
    ]


async def test_replies_and_notes_reach_the_logs_on_behalf_of_their_authors(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(
        client, REPLIED, "c1", [user_part("101", "<p>My printer is on fire</p>", T0)]
    )
    await post_webhook(
        client,
        "conversation.admin.replied",
        "c1",
        [admin_reply("102", "<p>On my way</p>", T0 + 60)],
    )
    await post_webhook(
        client, "conversation.admin.noted", "c1", [admin_note("103", "<p>Bring water</p>", T0 + 61)]
    )
    lead = make_part("104", "comment", "no account <b>here</b>", T0 + 62, "lead", None, "Visitor")
    await post_webhook(client, REPLIED, "c1", [lead])
    await drain(worker)

    public = fake_itop.log_entries(ticket, "public_log")
    private = fake_itop.log_entries(ticket, "private_log")
    assert [e["user_login"] for e in public] == [
        "Agatha Christie",
        "Victor Hugo",
        "Visitor (Intercom)",
    ]
    assert [e["user_id"] for e in public] == ["4", "5", 0]
    # Dated with the part's creation time, shown by iTop in its own timezone (Paris, UTC+1).
    assert [e["date"] for e in public] == [
        "2026-01-10 09:01:40",
        "2026-01-10 09:02:40",
        "2026-01-10 09:02:42",
    ]
    assert bodies(fake_itop, ticket) == ["My printer is on fire", "On my way", "no account here"]
    assert [e["user_login"] for e in private] == ["Victor Hugo"]
    assert "Private note synchronised from the" in private[0]["message"]
    assert public[0]["message"].startswith("Synchronised from the [Intercom conversation](")
    assert await delivery_states(services) == {"done": 4}


async def test_plain_text_bodies_become_safe_html(
    client: httpx.AsyncClient, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    text = "Hello <script>alert(1)</script> & co\nsee https://example.com/a?b=1&c=2\n\nBye"
    await post_webhook(client, REPLIED, "c1", [user_part("101", text, T0)])
    await drain(worker)
    stored = fake_itop.log_entries(ticket)[0]["message_html"]
    assert "<script>" not in stored
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co<br>" in stored
    assert '<a href="https://example.com/a?b=1&amp;c=2">' in stored
    assert stored.endswith("<p>Bye</p>")


async def test_parts_delivered_out_of_order_are_applied_in_conversation_order(
    make_service: ServiceFactory, fake_itop: FakeItop
) -> None:
    async with make_service(sync={"settle_seconds": 0.5}) as (services, http):
        worker = Worker(services, owner="w")
        ticket = link_ticket(fake_itop, "c1")
        await post_webhook(http, REPLIED, "c1", [user_part("103", "three", T0 + 3)])
        assert await worker.run_once() == 0  # not settled yet: nothing applied
        await post_webhook(http, REPLIED, "c1", [user_part("101", "one", T0 + 1)])
        # Same second: the part id decides (Intercom's ids grow).
        await post_webhook(http, REPLIED, "c1", [user_part("1020", "two-b", T0 + 2)])
        await post_webhook(http, REPLIED, "c1", [user_part("999", "two-a", T0 + 2)])
        await asyncio.sleep(0.6)
        await drain(worker)
        assert bodies(fake_itop, ticket) == ["one", "two-a", "two-b", "three"]


async def test_a_part_goes_to_every_linked_ticket_with_sync_on(
    client: httpx.AsyncClient, fake_itop: FakeItop, worker: Worker
) -> None:
    first, second = link_ticket(fake_itop, "c1"), link_ticket(fake_itop, "c1")
    paused = link_ticket(fake_itop, "c1", sync=False)
    other = link_ticket(fake_itop, "c2")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "hello", T0)])
    await drain(worker)
    assert bodies(fake_itop, first) == bodies(fake_itop, second) == ["hello"]
    assert texts(fake_itop, paused) == texts(fake_itop, other) == []


async def test_parts_of_an_unlinked_conversation_are_kept_and_never_applied_later(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    await post_webhook(client, REPLIED, "c1", [user_part("101", "before the link", T0)])
    await drain(worker)
    assert (await parts_plan(services))["101"] == "unlinked"
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("102", "after the link", T0 + 1)])
    await drain(worker)
    assert bodies(fake_itop, ticket) == ["after the link"]
    assert await count(services, deliveries) == 1


async def test_pause_and_resume(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "synced", T0)])
    await drain(worker)
    set_sync(fake_itop, ticket, False)
    await post_webhook(client, REPLIED, "c1", [user_part("102", "while paused", T0 + 1)])
    await drain(worker)
    set_sync(fake_itop, ticket, True)
    await post_webhook(client, REPLIED, "c1", [user_part("103", "resumed", T0 + 2)])
    await drain(worker)
    assert bodies(fake_itop, ticket) == ["synced", "resumed"]
    assert (await parts_plan(services))["102"] == "unlinked"


async def test_local_link_store_pause_and_resume(
    make_service: ServiceFactory, fake_itop: FakeItop
) -> None:
    async with make_service(ticket={"link_store": "local"}) as (services, http):
        worker = Worker(services, owner="w")
        store = await services.link_store()
        assert store.kind == "local"
        ticket = fake_itop.add_ticket()
        await store.link("ws4test1", "c1", ticket, "https://x", "test")
        await post_webhook(http, REPLIED, "c1", [user_part("101", "one", T0)])
        await drain(worker)
        await store.set_sync("ws4test1", "c1", False)
        await post_webhook(http, REPLIED, "c1", [user_part("102", "two", T0 + 1)])
        await drain(worker)
        await store.set_sync("ws4test1", "c1", True)
        await post_webhook(http, REPLIED, "c1", [user_part("103", "three", T0 + 2)])
        await drain(worker)
        assert bodies(fake_itop, ticket) == ["one", "three"]


async def test_itop_down_then_back_loses_nothing_and_duplicates_nothing(
    make_service: ServiceFactory, fake_itop: FakeItop
) -> None:
    # A long backoff: only the recovery probe can make the retries due again quickly.
    sync = {"settle_seconds": 0, "retry_base_seconds": 600}
    async with make_service(sync=sync) as (services, http):
        worker = Worker(services, owner="w")
        tickets = [link_ticket(fake_itop, "c1"), link_ticket(fake_itop, "c2")]
        for conv in ("c1", "c2"):
            await post_webhook(http, REPLIED, conv, [user_part(f"{conv}01", "a", T0)])
        await plan_new_parts(services)
        fake_itop.down = True
        for conv in ("c1", "c2"):
            await post_webhook(http, REPLIED, conv, [user_part(f"{conv}02", "b", T0 + 1)])
        await worker.run_once()
        assert worker.health.down
        assert (await delivery_states(services)) == {"pending": 2}
        fake_itop.down = False
        stop = asyncio.Event()
        assert await worker.health.probe_until_up(stop)
        await drain(worker)
        for ticket in tickets:
            assert bodies(fake_itop, ticket) == ["a", "b"]
        assert await delivery_states(services) == {"done": 4}


async def _warm_and_fail_next_write(
    services: Services, worker: Worker, fake_itop: FakeItop, failure: Any
) -> None:
    """Plan, learn the author, then make the next iTop request (the write) fail (once Home's
    background warm-ups, which read iTop too, are done)."""
    await services.warmups.join()
    await plan_new_parts(services)
    await worker.ctx.authors.resolve(AGATHA_EMAIL, "Agatha", "user")
    fake_itop.fail_next = [failure]


async def test_a_refused_part_goes_dead_and_is_applied_once_replayed(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "refused", T0)])
    await post_webhook(client, REPLIED, "c1", [user_part("102", "next one", T0 + 1)])
    await _warm_and_fail_next_write(
        services, worker, fake_itop, {"code": 100, "message": "Error: description: boom"}
    )
    await drain(worker)
    # The dead part does not hold the conversation back for good.
    assert bodies(fake_itop, ticket) == ["next one"]
    dead = await events.list_events(services.db, state="dead")
    assert len(dead) == 1
    assert dead[0].part_id == "101"
    assert dead[0].last_error == "iTop refused core/update: description: boom"
    assert dead[0].started_at is None  # refused: certainly not written
    result = await queue.replay(services.db, [dead[0].id])
    assert result.replayed == [dead[0].id]
    await drain(worker)
    assert sorted(bodies(fake_itop, ticket)) == ["next one", "refused"]
    assert await delivery_states(services) == {"done": 2}
    assert "itop_intercom_parts_dead 0.0" in (await client.get("/metrics")).text


async def test_a_deleted_ticket_is_a_dead_letter_with_its_reason(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "x", T0)])
    await plan_new_parts(services)
    fake_itop.remove("UserRequest", ticket)
    await drain(worker)
    (event,) = await events.list_events(services.db)
    assert event.state == "dead"
    assert "iTop refused core/update" in (event.last_error or "")


async def test_a_write_that_timed_out_after_being_applied_is_not_written_twice(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "once", T0)])
    await _warm_and_fail_next_write(services, worker, fake_itop, "timeout_after")
    await worker.run_once()
    assert bodies(fake_itop, ticket) == ["once"]  # applied, but we could not know
    (event,) = await events.list_events(services.db)
    assert (event.state, event.step) == ("pending", "entry")
    await worker.health.probe_until_up(asyncio.Event())
    await drain(worker)
    assert bodies(fake_itop, ticket) == ["once"]
    assert await delivery_states(services) == {"done": 1}


class Crash(BaseException):
    """The process dies: nothing after this line runs, no except clause catches it."""


async def test_a_worker_killed_between_the_itop_write_and_its_bookkeeping(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    await post_webhook(
        client, REPLIED, "c1", [user_part("101", "one", T0), user_part("102", "two", T0 + 1)]
    )

    record_done = planning.mark_done_rows

    async def die(conn: Any, finished: list[Delivery]) -> None:
        if finished:  # the entry of part 101 is in iTop; recording it kills the worker
            raise Crash()
        await record_done(conn, finished)

    # Marking deliveries done happens in one place (`planning.mark_done_rows`).
    monkeypatch.setattr(planning, "mark_done_rows", die)
    with pytest.raises(Crash):
        await worker.run_once()
    monkeypatch.undo()
    assert bodies(fake_itop, ticket) == ["one"]
    # A new process: its predecessor's lease runs out, then it takes over.
    successor = Worker(services, owner="successor")
    assert await successor.run_once() == 0  # still leased by the dead worker
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(sync_conversations).values(lease_until=time.time() - 1))
    claims = await queue.claim_conversations(services.db, "successor", 10, 30)
    assert [c.taken_over for c in claims] == [True]
    await queue.release(services.db, claims[0].key, "successor")
    await drain(successor)
    assert bodies(fake_itop, ticket) == ["one", "two"]
    assert await delivery_states(services) == {"done": 2}


async def test_a_failing_part_holds_back_only_its_own_conversation(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    worker: Worker,
) -> None:
    blocked, free = link_ticket(fake_itop, "c1"), link_ticket(fake_itop, "c2")
    url = fake_intercom.add_attachment("a.txt", b"hello")
    await post_webhook(
        client,
        REPLIED,
        "c1",
        [user_part("101", "with file", T0, attachments=[make_attachment("a.txt", url)])],
    )
    await post_webhook(client, REPLIED, "c1", [user_part("102", "later", T0 + 1)])
    await post_webhook(client, REPLIED, "c2", [user_part("201", "other", T0)])
    fake_intercom.down = True  # the attachment cannot be downloaded for now
    await drain(worker)
    assert texts(fake_itop, blocked) == []
    assert bodies(fake_itop, free) == ["other"]
    assert not worker.health.down  # Intercom's outage is not iTop's
    fake_intercom.down = False
    async with services.engine.begin() as conn:  # skip the backoff
        await conn.execute(sa.update(deliveries).values(due_at=0))
        await conn.execute(sa.update(sync_conversations).values(due_at=0))
    await drain(worker)
    assert [b.split("\n")[0] for b in bodies(fake_itop, blocked)] == ["with file", "later"]
    assert [a["filename"] for a in fake_itop.attachments(blocked)] == ["a.txt"]


async def test_a_part_failing_for_longer_than_the_maximum_age_goes_dead(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop, worker: Worker
) -> None:
    link_ticket(fake_itop, "c1")
    await post_webhook(client, REPLIED, "c1", [user_part("101", "x", T0)])
    await _warm_and_fail_next_write(services, worker, fake_itop, "invalid_login")
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(deliveries).values(age_from=time.time() - 25 * 3600))
    await drain(worker)
    (event,) = await events.list_events(services.db)
    assert event.state == "dead"
    assert (event.last_error or "").startswith("gave up after 24 h: iTop refused core/update")


async def test_the_worker_runs_inside_the_service(
    client: httpx.AsyncClient, services: Services, fake_itop: FakeItop
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    stop = start_in_app(services)
    try:
        await post_webhook(client, REPLIED, "c1", [user_part("101", "live", T0)])
        for _ in range(100):
            if texts(fake_itop, ticket):
                break
            await asyncio.sleep(0.05)
    finally:
        await stop()
    assert bodies(fake_itop, ticket) == ["live"]
    metrics = (await client.get("/metrics")).text
    assert 'itop_intercom_parts_applied_total{outcome="done"} 1.0' in metrics
    assert "itop_intercom_apply_seconds_count 1.0" in metrics
    assert 'itop_intercom_itop_calls_total{operation="core/update",outcome="ok"} 1.0' in metrics
    assert "itop_intercom_parts_pending 0.0" in metrics


@pytest.fixture
async def postgres_only(database_url: str) -> AsyncIterator[None]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a PostgreSQL database only")
    yield


@pytest.mark.usefixtures("postgres_only")
async def test_two_workers_on_postgresql_apply_each_part_once_and_in_order(
    client: httpx.AsyncClient,
    make_settings: SettingsFactory,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
) -> None:
    fake_itop.latency = 0.005
    settings = make_settings(sync={"settle_seconds": 0, "concurrency": 4, "poll_seconds": 0.05})
    conversations = [f"c{i}" for i in range(12)]
    tickets = {conv: link_ticket(fake_itop, conv) for conv in conversations}
    for n in range(8):
        for conv in conversations:
            part = user_part(f"{conv[1:]}{n:03d}", f"{conv}-{n}", T0 + n)
            await post_webhook(client, REPLIED, conv, [part])
    expected = 8 * len(conversations)
    pool = [services_on(settings, fake_itop, fake_intercom) for _ in range(2)]
    applied: dict[str, int] = {}

    class CountingWorker(Worker):
        async def _apply(self, delivery: Delivery, finished: Finished) -> bool:
            applied[self.owner] = applied.get(self.owner, 0) + 1
            return await super()._apply(delivery, finished)

    workers = [CountingWorker(s, owner=f"worker-{i}") for i, s in enumerate(pool)]
    stop = asyncio.Event()
    runs = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        for _ in range(400):
            if sum(len(texts(fake_itop, t)) for t in tickets.values()) >= expected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a duplicate would show up now
    finally:
        stop.set()
        await asyncio.gather(*runs)
        for s in pool:
            await s.aclose()
    for conv, ticket in tickets.items():
        assert bodies(fake_itop, ticket) == [f"{conv}-{n}" for n in range(8)]
    assert sorted(applied) == ["worker-0", "worker-1"]  # both took a share of the work
    assert sum(applied.values()) == expected
    updates = [c for c in fake_itop.calls if c["operation"] == "core/update"]
    assert len(updates) == expected
