"""Waiting for what a background task does, without a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Return as soon as `condition()` holds (checked every 10 ms); fail after `within` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {within:g} s")
        await asyncio.sleep(0.01)
