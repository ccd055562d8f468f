"""Group commit: concurrent requests share a transaction; a bad one fails alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from itop_intercom.runtime import Services
from itop_intercom.store.tables import conversation_parts
from itop_intercom.sync import groupcommit
from tests.sync.conftest import count


def row(part_id: str, conversation: str = "c1", **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "workspace_id": "ws",
        "conversation_id": conversation,
        "part_id": part_id,
        "notification_id": None,
        "topic": "conversation.user.replied",
        "part_type": "comment",
        "author_type": "user",
        "author_id": None,
        "author_name": None,
        "author_email": None,
        "body": "x",
        "attachments": [],
        "part_created_at": 1,
        "received_at": datetime.now(UTC),
        "log": "public",
        "plan": "new",
    }
    values.update(changes)
    return values


async def test_concurrent_requests_are_committed_together(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    original = groupcommit.PartWriter._insert

    async def spy(self: groupcommit.PartWriter, conn: Any, rows: list[dict[str, Any]]) -> Any:
        batches.append(len(rows))
        return await original(self, conn, rows)

    monkeypatch.setattr(groupcommit.PartWriter, "_insert", spy)
    writer = services.part_writer
    results = await asyncio.gather(*(writer.store([row(str(i))]) for i in range(50)))
    assert results == [1] * 50
    assert await count(services, conversation_parts) == 50
    assert len(batches) < 50  # shared transactions
    assert sum(batches) == 50


async def test_a_bad_request_fails_alone(services: Services) -> None:
    writer = services.part_writer
    good = [writer.store([row(str(i))]) for i in range(10)]
    bad = writer.store([row("bad", part_created_at=None)])  # NOT NULL violated
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert results[:10] == [1] * 10
    assert isinstance(results[10], Exception)
    assert await count(services, conversation_parts) == 10


async def test_duplicates_in_one_batch_are_counted_once(services: Services) -> None:
    writer = services.part_writer
    results = await asyncio.gather(*(writer.store([row("same")]) for _ in range(5)))
    assert sorted(results) == [0, 0, 0, 0, 1]
    assert await count(services, conversation_parts) == 1
