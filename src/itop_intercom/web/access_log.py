"""One structured log line per HTTP request, written by a plain ASGI middleware.

Handlers add fields (workspace, conversation, outcome) to `scope["log"]`; the middleware adds
the method, path, status and duration. Plain ASGI keeps the webhook path's overhead small.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.access")

_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: Status logged for a request that got no answer because its client left first (as nginx).
CLIENT_CLOSED = 499


def log_fields(scope: Scope) -> dict[str, Any]:
    fields: dict[str, Any] = scope.setdefault("log", {})
    return fields


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        scope["log"] = {}

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            status = status or 500
            raise
        finally:
            status = status or CLIENT_CLOSED
            path = scope.get("path", "")
            if path not in _QUIET_PATHS or status >= 400:
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    **scope["log"],
                )
