"""The sync worker: plans stored parts, applies deliveries conversation by conversation, runs
jobs. The same code runs inside `serve` (the embedded setup, `start_in_app`) and alone
(`itop-intercom worker`, `run_standalone`); several workers may share one PostgreSQL database.

Loops of one worker:
- *planner*: turns new parts into deliveries (`planner`), woken by the intake of the same
  process or every `poll_seconds`;
- *applier*: leases due conversations (up to `concurrency` at once) and applies each one's
  deliveries in order, stopping at the first one that must wait (settle delay, backoff) so
  that a failing part holds back only the later parts of its own conversation;
- *heartbeat*: renews this worker's leases every third of `lease_seconds`, so that only a worker
  that is really gone loses its conversations;
- *back-sync* (`sync.back.runner`): reads iTop's change history and posts to Intercom;
- *retention* (`retention_loop`) and, on SQLite, *checkpoint* (`checkpoint_loop`): housekeeping.
When iTop as a whole stops answering, the applier pauses and `health` probes iTop instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from itop_intercom.itop.errors import write_not_applied
from itop_intercom.logs import get_logger
from itop_intercom.sync import apply as apply_mod
from itop_intercom.sync import jobs, queue
from itop_intercom.sync.authors import AuthorDirectory
from itop_intercom.sync.back.runner import BacksyncRunner
from itop_intercom.sync.checkpoint_loop import checkpoint_loop
from itop_intercom.sync.dbutil import now
from itop_intercom.sync.failures import Failure, backoff, classify, past_max_age
from itop_intercom.sync.health import ItopHealth
from itop_intercom.sync.planner import plan_new_parts
from itop_intercom.sync.queue import Claim, Delivery
from itop_intercom.sync.retention_loop import retention_loop

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.worker")

#: Jobs one worker runs at the same time (next to `concurrency` conversations).
JOB_CONCURRENCY = 2


def worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(self, services: Services, *, owner: str | None = None) -> None:
        self.services = services
        self.settings = services.settings.sync
        self.owner = owner or worker_id()
        self.health = ItopHealth(services)
        self.ctx = apply_mod.ApplyContext(
            services=services,
            owner=self.owner,
            authors=AuthorDirectory(lambda: services.itop, self.settings.author_cache_seconds),
        )
        self._active: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._planned = asyncio.Event()
        self._jobs: set[asyncio.Task[None]] = set()
        self.backsync = BacksyncRunner(services, self.owner)

    # -- running ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; then finish the deliveries in hand and return."""
        wake = self.services.db.wakeups.subscribe()
        log.info("sync worker started", worker=self.owner)
        loops = [
            asyncio.create_task(self._planner_loop(stop, wake), name="sync-planner"),
            asyncio.create_task(self._applier_loop(stop), name="sync-applier"),
            asyncio.create_task(self._heartbeat_loop(stop), name="sync-heartbeat"),
            asyncio.create_task(retention_loop(self.services, stop), name="sync-retention"),
            asyncio.create_task(self.backsync.run(stop), name="backsync"),
            asyncio.create_task(checkpoint_loop(self.services.db, stop), name="checkpoint"),
        ]
        try:
            await stop.wait()
        finally:
            self.services.db.wakeups.unsubscribe(wake)
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            pending = [*self._active.values(), *self._jobs]
            if pending:
                _done, late = await asyncio.wait(pending, timeout=15)
                for task in late:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            log.info("sync worker stopped", worker=self.owner)

    async def run_once(self) -> int:
        """Plan, then apply everything due now, then run due jobs (tests, `worker --once`).
        Returns the number of conversations and jobs worked on."""
        await self._plan()
        worked = 0
        while True:
            claims = await queue.claim_conversations(
                self.services.db, self.owner, self.settings.concurrency, self.lease_seconds
            )
            if not claims:
                break
            await asyncio.gather(*(self._process(claim) for claim in claims))
            worked += len(claims)
            if self.health.down:
                break
        for job in await jobs.claim(self.services.db, self.owner, 100, self.lease_seconds):
            await jobs.run(self.services, job, self.owner)
            worked += 1
        return worked + await self.backsync.run_once()

    @property
    def lease_seconds(self) -> float:
        return self.settings.lease_seconds

    async def _planner_loop(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            wake.clear()
            pause = self.settings.poll_seconds
            planned = await self._plan(quiet=failures > 0)
            if planned is None:
                failures += 1
                # Back off (a setup problem would otherwise be retried, and logged, constantly).
                pause = min(30.0, pause * 2**failures)
            else:
                failures = 0
            if planned:
                self._planned.set()
                continue  # there may be more
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait() if not failures else stop.wait(), timeout=pause)

    async def _plan(self, *, quiet: bool = False) -> int | None:
        """One planning round; None when it failed (iTop down: the circuit opens)."""
        try:
            return await plan_new_parts(self.services)
        except Exception as exc:
            failure = classify(exc)
            if failure.outage:
                self.health.report_down(failure.reason)
            if not quiet:
                log.warning("planning failed; will retry", reason=failure.reason)
            return None

    async def _applier_loop(self, stop: asyncio.Event) -> None:
        poll = self.settings.poll_seconds
        # Parts that Intercom could not deliver while this process was not running arrive in
        # the first moments after it starts: give them the settle delay too before applying
        # later parts of their conversations.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.settings.settle_seconds)
        while not stop.is_set():
            if self.health.down:
                await self.health.probe_until_up(stop)
                continue
            try:
                await self._claim_and_start()
            except Exception as exc:
                log.warning("claiming work failed; will retry", reason=classify(exc).reason)
            # Sleep until a conversation or job finishes, the planner planned something, the
            # worker is stopped, or the poll interval passed (retries and settle delays).
            self._planned.clear()
            wakers = [
                asyncio.ensure_future(self._planned.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            try:
                await asyncio.wait(
                    [*self._active.values(), *self._jobs, *wakers],
                    timeout=poll,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                for waker in wakers:
                    waker.cancel()

    async def _claim_and_start(self) -> None:
        db = self.services.db
        free = self.settings.concurrency - len(self._active)
        for claim in await queue.claim_conversations(db, self.owner, free, self.lease_seconds):
            task = asyncio.create_task(self._process(claim))
            self._active[claim.key] = task
            task.add_done_callback(self._forget(claim.key))
        free_jobs = JOB_CONCURRENCY - len(self._jobs)
        for job in await jobs.claim(db, self.owner, free_jobs, self.lease_seconds):
            job_task = asyncio.create_task(self._run_job(job))
            self._jobs.add(job_task)
            job_task.add_done_callback(self._jobs.discard)

    def _forget(self, key: tuple[str, str]) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self._active.pop(key, None)

        return done

    async def _run_job(self, job: jobs.ClaimedJob) -> None:
        try:
            await jobs.run(self.services, job, self.owner)
        except Exception as exc:  # the database failed while recording: the lease expires
            log.warning("recording a job failed", job=job.id, reason=classify(exc).reason)

    async def _heartbeat_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.lease_seconds / 3)
            try:
                await queue.renew_leases(self.services.db, self.owner, self.lease_seconds)
            except Exception as exc:
                log.warning("renewing leases failed", reason=classify(exc).reason)

    # -- one conversation -----------------------------------------------------------------------

    async def _process(self, claim: Claim) -> None:
        db = self.services.db
        key = claim.key
        not_before: float | None = None
        finished = apply_mod.Finished()
        try:
            pending = await queue.load_pending(db, key)
            if claim.taken_over:
                log.info("taking over a conversation from a silent worker", conversation=key[1])
            unplanned = await queue.earliest_unplanned(db, key)
            for delivery in pending:
                if unplanned is not None and unplanned <= delivery.part_created_at:
                    # An earlier part is not planned yet: wait for the planner, keep the order.
                    not_before = now() + self.settings.poll_seconds
                    break
                if delivery.due_at > now() or self.health.down:
                    break
                if not await self._apply(delivery, finished):
                    break
        except apply_mod.LeaseLost:
            log.warning("lost the lease of a conversation; stopping it", conversation=key[1])
            with contextlib.suppress(Exception):
                await queue.mark_done(db, finished.take())
            return
        except Exception as exc:
            # Not a delivery failure (those are recorded by `_apply`): the database, or a bug.
            # Come back later rather than spin on it.
            log.error(
                "processing a conversation failed",
                conversation=key[1],
                reason=classify(exc).reason,
            )
            not_before = now() + max(self.settings.poll_seconds, 1.0)
        try:
            await queue.release(
                db, key, self.owner, not_before=not_before, finished=finished.take()
            )
        except Exception as exc:
            log.warning("releasing a conversation failed", reason=classify(exc).reason)

    async def _apply(self, delivery: Delivery, finished: apply_mod.Finished) -> bool:
        """Apply one delivery; True when the conversation may go on to the next one."""
        metrics = self.services.metrics
        try:
            await apply_mod.apply(self.ctx, delivery, finished)
        except apply_mod.LeaseLost:
            raise
        except Exception as exc:
            return await self._failed(delivery, exc, finished)
        metrics.parts_applied.labels("done").inc()
        metrics.apply_seconds.observe(max(0.0, time.time() - _epoch(delivery.received_at)))
        return True

    async def _failed(
        self, delivery: Delivery, exc: Exception, finished: apply_mod.Finished
    ) -> bool:
        metrics = self.services.metrics
        db = self.services.db
        if isinstance(exc, apply_mod.TicketGone):
            failure = Failure(False, str(exc))
        else:
            failure = classify(exc)
        # False: the write certainly did not happen; None: it may have (checked before writing).
        written: bool | None = False if write_not_applied(exc) else None
        failure = past_max_age(failure, delivery.age_from, self.settings.max_age_hours, now())
        if not failure.transient:
            await queue.mark_dead(
                db, delivery, failure.reason, written=written, finished=finished.take()
            )
            metrics.parts_applied.labels("dead").inc()
            log.warning(
                "part given up (dead letter)",
                delivery=delivery.id,
                conversation=delivery.conversation_id,
                ticket=delivery.ticket_id,
                reason=failure.reason,
            )
            return True
        if failure.outage:
            self.health.report_down(failure.reason)
        sync = self.settings
        due = now() + backoff(
            max(delivery.attempts, 1), sync.retry_base_seconds, sync.retry_max_seconds
        )
        await queue.schedule_retry(
            db,
            delivery,
            due,
            failure.reason,
            written=written,
            outage=failure.outage,
            finished=finished.take(),
        )
        metrics.parts_applied.labels("retry").inc()
        log.info(
            "part will be retried",
            delivery=delivery.id,
            conversation=delivery.conversation_id,
            attempts=delivery.attempts,
            reason=failure.reason,
        )
        return False


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# -- where it runs -------------------------------------------------------------------------------


def start_in_app(services: Services) -> Callable[[], Awaitable[None]]:
    """Start the worker inside the web service; return the coroutine function that stops it."""
    stop = asyncio.Event()
    worker = Worker(services)
    task = asyncio.create_task(worker.run(stop), name="sync-worker")

    async def stopper() -> None:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    return stopper


async def run_until_signalled(services: Services) -> None:
    """Run one worker until SIGINT or SIGTERM (the `worker` command)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await Worker(services).run(stop)
    finally:
        await services.aclose()
