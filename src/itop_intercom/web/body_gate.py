"""Receiving request bodies without letting a client hold the service: size, time, number.

A plain ASGI middleware in front of the application reads the whole body of every request that
carries one (POST, PUT, PATCH, or any request declaring a body) before any handler runs, then
hands the handler the bytes. So every handler gets a complete body, and no handler has to care
how it arrived. While reading:

- **Size**: a declared `Content-Length` over `server.max_body_bytes` is refused before a byte is
  read; a chunked body is counted as it comes and refused as soon as it passes the limit. Both
  get 413 with `Connection: close`, so the server stops reading instead of draining the rest.
- **Time**: the whole body must arrive within `server.body_timeout_seconds` of the request's
  start. A client that trickles bytes (or sends none) gets 408 and the connection is closed.
- **Number**: at most `server.max_concurrent_bodies` bodies are received at once. One more gets
  503 with `Retry-After` at once, without waiting for its body: stalled senders cannot take
  every connection the service has, and Intercom (which retries a 503) tries again later.
- **Disconnects**: a client that goes away mid-body is not an error of ours. Nothing is
  answered, nothing is processed, and the request's access-log line says so (status 499, the
  usual code for "client closed the request") instead of a 500 with a traceback.

Every refusal closes the connection: after a partial read, the rest of the stream is garbage.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from itop_intercom.metrics import Metrics, endpoint_label
from itop_intercom.settings.model import ServerSettings
from itop_intercom.web.access_log import log_fields

#: Methods whose requests carry a body to read.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Seconds a client refused for load is asked to wait.
RETRY_AFTER_SECONDS = 5


class _Refusal(Exception):
    def __init__(self, status: int, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class _Disconnected(Exception):
    """The client closed the connection before the body was complete."""


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    timeout_seconds: float
    max_concurrent: int

    @classmethod
    def of(cls, server: ServerSettings) -> BodyLimits:
        return cls(server.max_body_bytes, server.body_timeout_seconds, server.max_concurrent_bodies)


class BodyGate:
    """Reads each request body within the limits, then calls `app` with the complete body."""

    def __init__(self, app: ASGIApp, limits: BodyLimits, metrics: Metrics) -> None:
        self.app = app
        self.limits = limits
        self.metrics = metrics
        self.receiving = 0
        """Bodies being received right now (compared with `limits.max_concurrent`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _carries_body(scope):
            await self.app(scope, receive, send)
            return
        try:
            body = await self._receive_body(scope, receive)
        except _Refusal as refusal:
            self._count(scope, f"refused_{refusal.status}")
            log_fields(scope).update(outcome="refused", reason=refusal.reason)
            await _refuse(send, refusal)
            return
        except _Disconnected:
            self._count(scope, "client_disconnected")
            # No answer: the access log shows the request as closed by the client (499).
            log_fields(scope).update(outcome="client_disconnected")
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _receive_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.limits.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise _Refusal(413, f"body larger than {limit} bytes")
        if self.receiving >= self.limits.max_concurrent:
            raise _Refusal(503, "too many requests being received", retry_after=RETRY_AFTER_SECONDS)
        self.receiving += 1
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                return await _read(receive, limit)
        except TimeoutError:
            raise _Refusal(
                408, f"body not received within {self.limits.timeout_seconds:g} s"
            ) from None
        finally:
            self.receiving -= 1

    def _count(self, scope: Scope, outcome: str) -> None:
        self.metrics.requests.labels(endpoint_label(str(scope.get("path", ""))), outcome).inc()


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Refusal(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _carries_body(scope: Scope) -> bool:
    """POST, PUT and PATCH always; any other method when it declares a body (a GET with a
    50 MB body would otherwise be read to its end after the answer, to reach the next request)."""
    if scope.get("method") in BODY_METHODS:
        return True
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise _Refusal(400, "invalid Content-Length") from None
            if declared < 0:
                raise _Refusal(400, "invalid Content-Length")
            return declared
    return None


async def _refuse(send: Send, refusal: _Refusal) -> None:
    body = json.dumps({"error": refusal.reason}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if refusal.retry_after is not None:
        headers.append((b"retry-after", str(refusal.retry_after).encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
