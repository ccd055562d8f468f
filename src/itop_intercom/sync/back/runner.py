"""The back-sync's loops, run by the sync worker (inside `serve`, or `itop-intercom worker`).

- *poller*: one poll every `backsync.poll_seconds`, or at once when the optional iTop webhook
  signal arrives; one instance polls at a time (a lease on the cursor), the others stand by.
  When iTop fails, the pause doubles up to a minute, and the warning is logged once.
- *sender*: leases conversations whose outbox rows are due and posts them (`sender`), woken by
  the poller of the same process, else every second (retries come due on their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from itop_intercom.logs import get_logger
from itop_intercom.runtime import Services
from itop_intercom.sync.back import events, outbox, poller, sender
from itop_intercom.sync.back.poller import PollResult, state_of
from itop_intercom.sync.failures import classify

log = get_logger("itop_intercom.sync.back.runner")

#: Conversations one instance posts to at the same time (each one stays in order).
SEND_CONCURRENCY = 8
#: How often the sender looks for due rows without being woken.
SEND_TICK_SECONDS = 1.0


class BacksyncRunner:
    def __init__(self, services: Services, owner: str) -> None:
        self.services = services
        self.owner = owner
        self.state = state_of(services)
        self._failures = 0

    @property
    def enabled(self) -> bool:
        settings = self.services.settings
        return settings.backsync.enabled and settings.itop.rest_url is not None

    @property
    def lease_seconds(self) -> float:
        """How long a conversation being posted stays with a silent instance."""
        return self.services.settings.sync.lease_seconds

    @property
    def poll_lease_seconds(self) -> float:
        """How long the poll stays with a silent instance: short, so that a restarted or
        surviving instance resumes polling soon. Two instances polling at once is harmless (the
        second one's results are dropped: the cursor is compared and set)."""
        return max(3 * self.poll_seconds, 3.0)

    @property
    def poll_seconds(self) -> float:
        return self.services.settings.backsync.poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        if not self.enabled:
            return
        loops = [
            asyncio.create_task(self._poll_loop(stop), name="backsync-poller"),
            asyncio.create_task(self._send_loop(stop), name="backsync-sender"),
            asyncio.create_task(self._heartbeat_loop(stop), name="backsync-heartbeat"),
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def poll(self) -> PollResult | None:
        """One poll, with its metrics; None when it failed (logged once per outage)."""
        metrics = self.services.metrics
        try:
            result = await poller.poll_once(self.services, self.owner, self.poll_lease_seconds)
        except Exception as exc:
            metrics.backsync_polls.labels("failed").inc()
            if self._failures == 0:
                log.warning(
                    "reading iTop's change history failed; will retry",
                    reason=classify(exc).reason,
                )
            self._failures += 1
            return None
        if self._failures:
            log.info("reading iTop's change history works again")
        self._failures = 0
        if result.polled:
            metrics.backsync_polls.labels("changes" if result.ops else "nothing").inc()
            metrics.backsync_poll_calls.inc(result.itop_calls)
        return result

    async def send_due(self) -> int:
        """Post what is due now; returns the number of conversations worked on."""
        db = self.services.db
        worked = 0
        while True:
            claims = await outbox.claim(db, self.owner, SEND_CONCURRENCY, self.lease_seconds)
            if not claims:
                break
            await asyncio.gather(
                *(sender.process_conversation(self.services, self.owner, *c) for c in claims)
            )
            worked += len(claims)
        await self.update_lag()
        return worked

    async def update_lag(self) -> None:
        oldest = await events.oldest_pending(self.services.db)
        lag = 0.0 if oldest is None else max(0.0, time.time() - oldest)
        self.services.metrics.backsync_lag.set(lag)

    async def run_once(self) -> int:
        """Poll once, then post everything due (tests, `worker --once`)."""
        if not self.enabled:
            return 0
        await self.poll()
        return await self.send_due()

    async def _poll_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.state.poll_now.clear()
            await self.poll()
            pause = self.poll_seconds
            if self._failures:
                pause = min(60.0, pause * 2 ** min(self._failures, 6))
            waiters = [
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self.state.poll_now.wait()),
            ]
            try:
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _send_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.state.posted.clear()
            try:
                await self.send_due()
            except Exception as exc:
                log.warning("posting to Intercom failed; will retry", reason=classify(exc).reason)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.state.posted.wait(), timeout=SEND_TICK_SECONDS)

    async def _heartbeat_loop(self, stop: asyncio.Event) -> None:
        """Renew this instance's leases (conversations being posted, the poll) every third of
        the lease, so that only an instance that is really gone loses them."""
        while not stop.is_set():
            pause = min(self.lease_seconds, self.poll_lease_seconds) / 3
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            try:
                await outbox.renew(
                    self.services.db, self.owner, self.lease_seconds, self.poll_lease_seconds
                )
            except Exception as exc:
                log.warning("renewing back-sync leases failed", reason=classify(exc).reason)
