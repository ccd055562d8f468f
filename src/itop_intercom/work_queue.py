"""Best-effort background work with a bounded queue and bounded concurrency.

For work that only makes later requests faster (warming a cache): it must never slow down the
request that offers it, nor pile up. `offer` is synchronous and O(1); it refuses the work when
the same key is already waiting or running, or when the queue is full (the work is dropped and
counted, not delayed). At most `concurrency` items run at once; a failing item is logged and
forgotten. The workers start with the first offer (they need a running event loop) and stop
with `aclose`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable

from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.work_queue")

Work = Callable[[], Awaitable[object]]


class BoundedWork:
    def __init__(self, name: str, *, concurrency: int = 1, max_pending: int = 100) -> None:
        self.name = name
        self.concurrency = max(1, concurrency)
        self.max_pending = max(1, max_pending)
        self.dropped = 0
        self.done = 0
        self.failed = 0
        self._queue: asyncio.Queue[tuple[Hashable, Work] | None] | None = None
        self._keys: set[Hashable] = set()
        self._workers: list[asyncio.Task[None]] = []

    @property
    def pending(self) -> int:
        """Items waiting or running."""
        return len(self._keys)

    def offer(self, key: Hashable, work: Work) -> bool:
        """Queue `work` unless the same key is pending or the queue is full; never waits."""
        if key in self._keys:
            return False
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._workers = [
                asyncio.create_task(self._run(), name=f"{self.name}-{n}")
                for n in range(self.concurrency)
            ]
        if self._queue.qsize() >= self.max_pending:
            self.dropped += 1
            return False
        self._queue.put_nowait((key, work))
        self._keys.add(key)
        return True

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            item = await queue.get()
            if item is None:  # closing
                queue.task_done()
                return
            key, work = item
            try:
                await work()
                self.done += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed += 1
                log.info(f"{self.name} failed", error=type(exc).__name__)
            finally:
                self._keys.discard(key)
                queue.task_done()

    async def join(self) -> None:
        """Wait until nothing is pending (tests and benchmarks)."""
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self, *, grace: float = 2.0) -> None:
        """Drop the waiting items, let the running ones finish for up to `grace` seconds
        (cancelling one in the middle of a database call could leave its connection in use),
        then cancel what is left."""
        queue, workers = self._queue, self._workers
        self._queue, self._workers = None, []
        if queue is None:
            return
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()
        for _ in workers:
            queue.put_nowait(None)
        if workers:
            _done, late = await asyncio.wait(workers, timeout=grace)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._keys.clear()
