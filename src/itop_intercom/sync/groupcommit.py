"""Group commit of the webhook intake: concurrent notifications share one transaction.

Each notification must be durable before it is acknowledged, and a commit is the expensive part
of storing it (a WAL write on SQLite, a WAL flush on PostgreSQL). Under load, notifications that
arrive while a commit is in progress wait for the next one and are inserted together with one
multi-row `INSERT … ON CONFLICT DO NOTHING`, so a burst of N costs about one commit, not N.
Without load a notification is committed alone, immediately: nothing waits for a timer.

There is no long-lived task: the first caller of a burst starts a short drain task that runs
until the queue is empty. A failing batch is retried notification by notification, so that one
bad notification cannot make the others of its batch fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from itop_intercom.store.database import Database
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.sync.entries import HISTORY_TOPIC

PartKey = tuple[str, str, str]
_Request = tuple[list[dict[str, Any]], "asyncio.Future[int]"]

#: Rows per transaction; bounded so that one statement stays small.
MAX_BATCH_ROWS = 500


def _key(row: Mapping[str, Any]) -> PartKey:
    return (str(row["workspace_id"]), str(row["conversation_id"]), str(row["part_id"]))


class PartWriter:
    """The intake's writer of one database (one per service instance)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._engine = db.engine
        # Built once: building the statement costs more than running it.
        self._upsert = _build_upsert(db.engine.dialect.name)
        self._queue: list[_Request] = []
        self._drain_task: asyncio.Task[None] | None = None

    async def store(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Store the parts durably; return how many were new (not stored before)."""
        if not rows:
            return 0
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._queue.append(([dict(r) for r in rows], future))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        # Requests may arrive while the connection is being closed: look again afterwards.
        # (`store` starts a new drain only once this task is done.)
        while self._queue:
            await self._drain_burst()

    async def _drain_burst(self) -> None:
        # One connection for the whole burst: checking one out of the pool and back in costs
        # more than the insert. It goes back to the pool when the burst is over.
        conn: AsyncConnection | None = None
        try:
            while self._queue:
                batch: list[_Request] = []
                size = 0
                while self._queue and (
                    not batch or size + len(self._queue[0][0]) <= MAX_BATCH_ROWS
                ):
                    request = self._queue.pop(0)
                    batch.append(request)
                    size += len(request[0])
                try:
                    if conn is None:
                        conn = await self._engine.connect()
                    new = await self._insert(conn, [row for rows, _ in batch for row in rows])
                except Exception as exc:
                    if conn is not None:  # it may be broken: never reuse it
                        await _discard(conn)
                        conn = None
                    await self._one_by_one(batch, exc)
                else:
                    for rows, future in batch:
                        _settle(future, _count(rows, new))
                self._db.wakeups.notify()
        finally:
            if conn is not None:
                await conn.close()

    async def _one_by_one(self, batch: list[_Request], exc: Exception) -> None:
        """A batch failed: retry each request alone, so only a bad one fails."""
        if len(batch) == 1:
            _settle(batch[0][1], exc)
            return
        for rows, future in batch:
            try:
                async with self._engine.connect() as conn:
                    _settle(future, _count(rows, await self._insert(conn, rows)))
            except Exception as single_exc:
                _settle(future, single_exc)

    async def _insert(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> set[PartKey]:
        unique: dict[PartKey, dict[str, Any]] = {}
        for row in rows:  # one statement must not touch a row twice (PostgreSQL refuses it)
            unique.setdefault(_key(row), row)
        async with self._db.write_gate(), conn.begin():
            result = await conn.execute(self._upsert, list(unique.values()))
            return {(r[0], r[1], r[2]) for r in result.all()}


async def _discard(conn: AsyncConnection) -> None:
    try:
        await conn.invalidate()
    finally:
        await conn.close()


def _build_upsert(dialect: str) -> Any:
    """Insert new parts; a part already stored by a history copy (`topic = 'history'`) becomes
    a webhook part again, to be planned for every ticket with sync on, as any webhook part.
    Parts already received by webhook are left alone (that is the deduplication)."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(parts_t)
    excluded = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[parts_t.c.workspace_id, parts_t.c.conversation_id, parts_t.c.part_id],
        set_={
            "topic": excluded.topic,
            "notification_id": excluded.notification_id,
            "log": excluded.log,
            "plan": "new",
        },
        where=parts_t.c.topic == HISTORY_TOPIC,
    ).returning(parts_t.c.workspace_id, parts_t.c.conversation_id, parts_t.c.part_id)


def _count(rows: list[dict[str, Any]], new: set[PartKey]) -> int:
    """New rows of one request; a key is credited once (the same part may be in two requests
    of one batch)."""
    count = 0
    for row in rows:
        key = _key(row)
        if key in new:
            new.discard(key)
            count += 1
    return count


def _settle(future: asyncio.Future[int], outcome: int | BaseException) -> None:
    if future.done():  # the request was cancelled (client went away): nothing to tell
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
