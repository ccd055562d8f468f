"""Counting iTop calls and round trips on the critical path, seen from the client's side.

A transport wrapper around the fake iTop's transport records when each rest.php call was sent
and when its answer came back. Calls that overlap in time ran concurrently and cost one round
trip between them; the critical path is the longest chain of calls each sent after the previous
one was answered (the greatest number of calls that do not overlap, found greedily by end time).

Each call is held for `hold` seconds before it is passed on, so that calls started together
(`asyncio.gather`) always overlap, even when a local database query delays one of them a little.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Call:
    operation: str
    started: float
    ended: float
    query: str = ""
    """`class` and `key` of the call, as text."""


@dataclass
class Window:
    """The calls of one measured step (a screen)."""

    calls: list[Call] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def round_trips(self) -> int:
        """Round trips on the critical path: calls made concurrently count once."""
        chain = 0
        last_end = float("-inf")
        for call in sorted(self.calls, key=lambda c: c.ended):
            if call.started >= last_end:
                chain += 1
                last_end = call.ended
        return chain

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def queries(self) -> list[str]:
        return [call.query for call in self.calls]


class RoundTripCounter(httpx.AsyncBaseTransport):
    """Wraps an iTop transport; `window()` starts a new measured step."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, hold: float = 0.02) -> None:
        self.inner = inner
        self.hold = hold
        self.current = Window()

    def window(self) -> Window:
        self.current = Window()
        return self.current

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/webservices/rest.php"):
            return await self.inner.handle_async_request(request)
        window = self.current
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            if self.hold > 0:
                await asyncio.sleep(self.hold)
            return await self.inner.handle_async_request(request)
        finally:
            operation, query = _describe(request)
            window.calls.append(Call(operation, started, loop.time(), query))

    async def aclose(self) -> None:
        await self.inner.aclose()


def _describe(request: httpx.Request) -> tuple[str, str]:
    form = dict(urllib.parse.parse_qsl(request.content.decode("utf-8", "replace")))
    try:
        payload = json.loads(form.get("json_data", ""))
    except ValueError:
        return "?", ""
    if not isinstance(payload, dict):
        return "?", ""
    return str(payload.get("operation", "?")), f"{payload.get('class')}: {payload.get('key')}"
