"""An httpx transport to the fake that can also fail like a network."""

from __future__ import annotations

import asyncio

import httpx

from tests.fakes.itop.server import _Server


class _FakeTransport(httpx.AsyncBaseTransport):
    """Forwards to the ASGI app; honours `down`, transport-level `fail_next` and read timeouts
    (httpx's ASGITransport alone ignores timeouts)."""

    def __init__(self, fake: _Server) -> None:
        self._fake = fake
        self._asgi = httpx.ASGITransport(app=fake.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fake = self._fake
        if fake.down:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        failure = None
        if request.url.path.endswith("/webservices/rest.php"):
            failure = fake._pop_failure(transport=True)
        if failure == "connect_error":
            raise httpx.ConnectError("All connection attempts failed", request=request)
        if failure == "timeout_before":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if isinstance(failure, BaseException):
            raise failure
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read")
        try:
            response = await asyncio.wait_for(
                self._asgi.handle_async_request(request), timeout=read_timeout
            )
        except TimeoutError:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None
        if failure == "timeout_after":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if failure == "disconnect_after":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return response

    async def aclose(self) -> None:
        await self._asgi.aclose()
