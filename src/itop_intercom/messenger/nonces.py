"""Replay protection: each nonce of a signed module request is accepted once.

Nonces live in the database (shared by every instance behind a load balancer) until their
request could no longer pass the timestamp check; expired ones are deleted as new ones arrive,
so the table holds at most one window of requests.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from itop_intercom.store.database import Database
from itop_intercom.store.tables import messenger_nonces


async def first_use(db: Database, nonce: str, keep_seconds: float) -> bool:
    """Record `nonce`; False when it was already seen (a replay)."""
    now = time.time()
    try:
        async with db.write_transaction() as conn:
            await conn.execute(
                sa.delete(messenger_nonces).where(messenger_nonces.c.expires_at < now)
            )
            await conn.execute(
                sa.insert(messenger_nonces).values(nonce=nonce, expires_at=now + keep_seconds)
            )
    except IntegrityError:
        return False
    return True
