"""BoundedWork: never waits, deduplicates, drops when full, bounded concurrency, survives errors."""

from __future__ import annotations

import asyncio

from itop_intercom.work_queue import BoundedWork, Work


async def test_runs_offers_one_at_a_time_and_drops_when_full() -> None:
    work = BoundedWork("test", concurrency=1, max_pending=2)
    release = asyncio.Event()
    running = 0
    most = 0
    ran: list[str] = []

    def job(name: str) -> Work:
        async def run() -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await release.wait()
            ran.append(name)
            running -= 1

        return run

    assert work.offer("a", job("a"))
    await asyncio.sleep(0)  # "a" starts and waits
    assert not work.offer("a", job("a again"))
    assert work.offer("b", job("b"))
    assert work.offer("c", job("c"))
    assert not work.offer("d", job("d"))
    assert work.dropped == 1 and work.pending == 3
    release.set()
    await work.join()
    assert ran == ["a", "b", "c"] and most == 1
    await work.aclose()


async def test_a_failing_item_is_counted_and_the_next_runs() -> None:
    work = BoundedWork("test")
    done: list[int] = []

    async def fails() -> None:
        raise RuntimeError("iTop down")

    async def works() -> None:
        done.append(1)

    work.offer("x", fails)
    work.offer("y", works)
    await work.join()
    assert (work.failed, work.done, done) == (1, 1, [1])
    assert work.offer("x", works)  # a finished key may be offered again
    await work.join()
    await work.aclose()
