"""Database: background writes in a thread hold the SQLite write gate, and roll back on error."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.store.tables import messenger_nonces


async def _nonces(services: Services) -> list[str]:
    async with services.engine.connect() as conn:
        query = sa.select(messenger_nonces.c.nonce).order_by(messenger_nonces.c.nonce)
        return list((await conn.execute(query)).scalars())


@pytest.fixture
def sqlite_only(services: Services) -> Services:
    if not services.db.is_sqlite:
        pytest.skip("SQLite only: PostgreSQL needs no gate and writes asynchronously")
    return services


async def test_a_write_in_a_thread_holds_the_gate_until_it_committed(
    sqlite_only: Services,
) -> None:
    db = sqlite_only.db
    order: list[str] = []

    def slow_insert(conn: sa.Connection) -> int:
        conn.execute(sa.insert(messenger_nonces).values(nonce="background", expires_at=2e9))
        order.append("background wrote")
        return 1

    async def request_write() -> None:
        await asyncio.sleep(0)  # the background write has taken the gate first
        async with db.write_transaction() as conn:
            order.append("request writes")
            await conn.execute(sa.insert(messenger_nonces).values(nonce="request", expires_at=2e9))

    assert (await asyncio.gather(db.write_in_thread(slow_insert), request_write()))[0] == 1
    assert order == ["background wrote", "request writes"]
    assert await _nonces(sqlite_only) == ["background", "request"]


async def test_a_failing_write_in_a_thread_is_rolled_back_and_frees_the_gate(
    sqlite_only: Services,
) -> None:
    db = sqlite_only.db

    def half_done(conn: sa.Connection) -> None:
        conn.execute(sa.insert(messenger_nonces).values(nonce="half", expires_at=2e9))
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await db.write_in_thread(half_done)
    assert await _nonces(sqlite_only) == []
    async with asyncio.timeout(5):  # the gate was given back
        async with db.write_transaction() as conn:
            await conn.execute(sa.insert(messenger_nonces).values(nonce="next", expires_at=2e9))
    assert await _nonces(sqlite_only) == ["next"]
