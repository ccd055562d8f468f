"""The sync worker (filled in by the sync issue)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from itop_intercom.runtime import Services


def start_in_app(services: Services) -> Callable[[], Awaitable[None]]:
    """Start the worker inside the web service; return the coroutine function that stops it."""

    async def stop() -> None:
        return None

    return stop
