"""Is iTop up? A circuit breaker shared by one worker's tasks.

When a call fails because iTop as a whole is not answering (connection refused, timeouts, 5xx,
maintenance page), every other conversation would fail the same way and back off on its own,
each discovering the recovery at a different time, up to a full backoff interval late. Instead
the worker stops taking work, probes iTop with one cheap call at a short interval, and when it
answers again makes every backed-off delivery due at once (`queue.wake_retries`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from itop_intercom.itop.errors import ItopError
from itop_intercom.logs import get_logger
from itop_intercom.sync import queue

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.health")

PROBE_MIN_SECONDS = 0.5
PROBE_MAX_SECONDS = 5.0


class ItopHealth:
    def __init__(self, services: Services) -> None:
        self._services = services
        self.down_since: float | None = None
        self.reason = ""

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def report_down(self, reason: str) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.reason = reason
            log.warning("iTop is not answering; pausing the sync until it does", reason=reason)

    async def probe_until_up(self, stop: asyncio.Event) -> bool:
        """Probe until iTop answers (True) or the worker stops (False)."""
        delay = PROBE_MIN_SECONDS
        while not stop.is_set():
            try:
                await self._services.itop.list_operations()
            except ItopError:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(PROBE_MAX_SECONDS, delay * 2)
                continue
            down_for = time.monotonic() - (self.down_since or time.monotonic())
            woken = await queue.wake_retries(self._services.db)
            log.info("iTop answers again; resuming", down_seconds=round(down_for, 1), woken=woken)
            self.down_since = None
            return True
        return False
