"""A latency model of a real iTop 3.2 in front of the in-process fake, for the benchmarks.

Measured on the lab iTop (PHP 8.2, `php -S` with 4 workers, 2 cores): one minimal REST call
costs about 80 ms, of which about 45 ms is the bcrypt check of the token and most of the rest is
iTop booting for the call; the query itself adds little (reads 67-75 ms, creates and updates
85-95 ms). Only 4 calls are served at once: further calls wait for a free worker. So the model:

- a call holds one of `workers` workers (default 4) for `fixed` seconds (default 0.080);
- a write (create, update, stimulus, delete) holds it `write_extra` longer (default 0.015);
- each extra class in the query (a JOIN, a UNION branch) adds `per_class` (default 0.003);
- calls beyond `workers` queue (first come, first served) before any of that starts.

The fake's own `latency` is used for the fixed part, so that the fake's PHP sessions are held
for as long as iTop would hold them (a client that shares a session cookie is then refused as
on the real iTop). `SharedCookies` makes any client behave like one that keeps cookies.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
from http.cookies import SimpleCookie

import httpx
from tests.fakes.itop import FakeItop

WRITES = frozenset({"core/create", "core/update", "core/apply_stimulus", "core/delete"})
_EXTRA_CLASS = re.compile(r"\b(?:JOIN|UNION)\b", re.IGNORECASE)


class ItopLike(httpx.AsyncBaseTransport):
    def __init__(
        self,
        fake: FakeItop,
        *,
        workers: int = 4,
        fixed: float = 0.080,
        write_extra: float = 0.015,
        per_class: float = 0.003,
    ) -> None:
        self.fake = fake
        self.inner = fake.transport()
        self.workers = asyncio.Semaphore(workers)
        self.write_extra = write_extra
        self.per_class = per_class
        fake.latency = fixed

    def describe(self) -> str:
        return (
            f"{self.fake.latency * 1000:.0f} ms per call (+{self.write_extra * 1000:.0f} ms a "
            f"write, +{self.per_class * 1000:.0f} ms a JOIN/UNION), "
            f"{self.workers._value} calls served at once"
        )

    def _extra(self, request: httpx.Request) -> float:
        form = dict(urllib.parse.parse_qsl(request.content.decode("utf-8", "replace")))
        try:
            payload = json.loads(form.get("json_data", "{}"))
        except ValueError:
            return 0.0
        if not isinstance(payload, dict):
            return 0.0
        extra = self.write_extra if payload.get("operation") in WRITES else 0.0
        key = payload.get("key")
        if isinstance(key, str):
            extra += self.per_class * len(_EXTRA_CLASS.findall(key))
        return extra

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self.workers:
            extra = self._extra(request)
            if extra > 0:
                await asyncio.sleep(extra)
            return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class SharedCookies(httpx.AsyncBaseTransport):
    """Keeps the last session cookie iTop set and sends it with every call, like an HTTP
    client with a cookie jar (what the iTop client did before it dropped cookies)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.cookie: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.cookie is not None:
            request.headers["cookie"] = self.cookie
        response = await self.inner.handle_async_request(request)
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            self.cookie = "; ".join(f"{name}={m.value}" for name, m in jar.items())
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
