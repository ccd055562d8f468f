"""Applying one delivery: attachments first (each once), then the entry (once)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from itop_intercom.runtime import Services
from itop_intercom.sync import events, queue
from itop_intercom.sync.queue import Delivery
from itop_intercom.sync.worker import Worker
from tests.conftest import ServiceFactory
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.signing import make_attachment
from tests.sync.conftest import T0, drain, link_ticket, post_webhook, texts, user_part

REPLIED = "conversation.user.replied"


async def test_attachments_become_itop_attachments_listed_in_the_entry(
    client: httpx.AsyncClient, fake_itop: FakeItop, fake_intercom: FakeIntercom, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    pdf = fake_intercom.add_attachment("report.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    png = fake_intercom.add_attachment("shot.png", b"\x89PNG", send_length=False)
    part = user_part(
        "101",
        "see attached",
        T0,
        attachments=[
            make_attachment("report.pdf", pdf),
            make_attachment("shot.png", png, content_type="image/png", filesize=4),
        ],
    )
    await post_webhook(client, REPLIED, "c1", [part])
    await drain(worker)
    files = fake_itop.attachments(ticket)
    assert [(a["filename"], a["mimetype"], a["content"]) for a in files] == [
        ("report.pdf", "application/pdf", b"%PDF-1.4 x"),
        ("shot.png", "image/png", b"\x89PNG"),
    ]
    (entry,) = texts(fake_itop, ticket)
    assert "Attachments (see the ticket's attachments): report.pdf, shot.png" in entry


async def test_an_attachment_over_the_limit_is_not_copied_and_the_entry_says_so(
    make_service: ServiceFactory,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync = {"settle_seconds": 0, "attachment_max_bytes": 10}
    async with make_service(sync=sync) as (services, http):
        ticket = link_ticket(fake_itop, "c1")
        announced = fake_intercom.add_attachment("big.iso", b"x" * 100)
        hidden = fake_intercom.add_attachment("sneaky.bin", b"y" * 100, send_length=False)
        part = user_part(
            "101",
            "two big files",
            T0,
            attachments=[
                make_attachment("big.iso", announced, filesize=100),
                make_attachment("sneaky.bin", hidden, filesize=5),  # it lies about its size
            ],
        )
        await post_webhook(http, REPLIED, "c1", [part])
        await drain(Worker(services, owner="w"))
        assert fake_itop.attachments(ticket) == []
        (entry,) = texts(fake_itop, ticket)
        assert "Not copied: big.iso (over the 10 bytes limit)" in entry
        assert "Not copied: sneaky.bin (over the 10 bytes limit)" in entry


async def test_an_expired_attachment_link_does_not_block_the_message(
    client: httpx.AsyncClient, fake_itop: FakeItop, fake_intercom: FakeIntercom, worker: Worker
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    gone = f"{fake_intercom.attachment_base}/_attachments/nope/x.txt"
    await post_webhook(
        client,
        REPLIED,
        "c1",
        [user_part("101", "hi", T0, attachments=[make_attachment("x.txt", gone)])],
    )
    await drain(worker)
    (entry,) = texts(fake_itop, ticket)
    assert "Not copied: x.txt (could not be downloaded from Intercom)" in entry


class Crash(BaseException):
    pass


async def test_a_crash_after_creating_an_attachment_does_not_create_it_twice(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = link_ticket(fake_itop, "c1")
    first = fake_intercom.add_attachment("a.txt", b"first")
    second = fake_intercom.add_attachment("b.txt", b"second")
    part = user_part(
        "101",
        "two files",
        T0,
        attachments=[make_attachment("a.txt", first), make_attachment("b.txt", second)],
    )
    await post_webhook(client, REPLIED, "c1", [part])
    saved = queue.save_progress
    calls = 0

    async def die_on_second(engine: Any, delivery: Delivery, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # b.txt exists in iTop, the worker dies before writing that down
            raise Crash()
        await saved(engine, delivery, **kwargs)

    monkeypatch.setattr(queue, "save_progress", die_on_second)
    with pytest.raises(Crash):
        await worker.run_once()
    monkeypatch.undo()
    assert [a["filename"] for a in fake_itop.attachments(ticket)] == ["a.txt", "b.txt"]
    successor = Worker(services, owner="successor")
    await _expire_leases(services)
    await drain(successor)
    assert [a["filename"] for a in fake_itop.attachments(ticket)] == ["a.txt", "b.txt"]
    assert len(texts(fake_itop, ticket)) == 1
    (event,) = await events.list_events(services.db)
    ids = [a.get("itop_id") for a in event.progress["attachments"]]
    assert ids == [a["id"] for a in fake_itop.attachments(ticket)]


async def _expire_leases(services: Services) -> None:
    import time

    import sqlalchemy as sa

    from itop_intercom.store.tables import sync_conversations

    async with services.engine.begin() as conn:
        await conn.execute(sa.update(sync_conversations).values(lease_until=time.time() - 1))
