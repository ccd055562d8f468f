"""The worker's checkpoint task: SQLite's write-ahead log copied back every second.

Left to SQLite, the log is copied back into the database by the commit that makes it longer
than 1,000 pages, and that commit waits for the copy of all of them and its fsync; at a few
hundred webhooks a second that is a webhook's commit every half minute, slowed by a hundred
milliseconds or more. Copied every second by the worker (PASSIVE: never waiting for readers or
writers), the log is always nearly all copied already, and the commit that crosses the
threshold, which still restarts the log, finds a second's worth of pages left to copy. The
worker runs beside `serve` in every SQLite setup (embedded or `itop-intercom worker`), so one
task covers every process writing the file.
"""

from __future__ import annotations

import asyncio

from itop_intercom.logs import get_logger
from itop_intercom.store.database import Database
from itop_intercom.sync.failures import classify
from itop_intercom.sync.retention_loop import wait_or_stop

log = get_logger("itop_intercom.store")

CHECKPOINT_SECONDS = 1.0


async def checkpoint_loop(
    db: Database, stop: asyncio.Event, *, every_seconds: float = CHECKPOINT_SECONDS
) -> None:
    if not db.is_sqlite:
        return
    while not stop.is_set():
        await wait_or_stop(stop, every_seconds)
        try:
            await db.checkpoint()
        except Exception as exc:
            # The next second tries again; SQLite's own threshold is still there behind it.
            log.warning("checkpoint failed", reason=classify(exc).reason)
