"""The worker's retention task: purge what is past retention, now and then, until stopped."""

from __future__ import annotations

import asyncio
import contextlib

from itop_intercom.logs import get_logger
from itop_intercom.runtime import Services
from itop_intercom.sync.failures import classify
from itop_intercom.sync.retention import purge

log = get_logger("itop_intercom.sync.retention")

#: The first purge waits this long after the worker starts (the start is busy enough), so that
#: a service restarted more often than `every_minutes` still purges.
FIRST_DELAY_SECONDS = 60.0


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile (the housekeeping loops' pace)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def retention_loop(services: Services, stop: asyncio.Event) -> None:
    settings = services.settings.retention
    if not settings.enabled:
        return
    await wait_or_stop(stop, min(FIRST_DELAY_SECONDS, settings.every_minutes * 60))
    while not stop.is_set():
        try:
            report = await purge(services.db, settings, stop=stop)
        except Exception as exc:
            log.warning("purge failed", reason=classify(exc).reason)
        else:
            if report.total:
                log.info(
                    "purged",
                    **{label.replace(" ", "_"): count for label, count in report.lines()},
                    seconds=round(report.seconds, 2),
                )
        await wait_or_stop(stop, settings.every_minutes * 60)
