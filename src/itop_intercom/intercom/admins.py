"""The email of a teammate (admin) known only by id, asked of Intercom once and remembered.

Older webhook payloads (API 1.x shapes, and some 2.x parts) give an admin author only `id` and
`name`; the email is what links the teammate to an iTop user. `GET /admins/{id}` gives it. The
answer is kept per (workspace, admin id) for `ttl_seconds`, misses included, and concurrent
look-ups of the same admin share one call, so a busy conversation costs one call per teammate.

What cannot be known is not an error: an admin Intercom does not know (404), or a workspace
without an access token, or a token Intercom refuses, gives None (the entry is then written
under the author's name). An Intercom outage or rate limit is raised as is (transient): the
delivery is tried again later rather than attributed to nobody for good.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from itop_intercom.intercom.client import IntercomClient
from itop_intercom.intercom.errors import IntercomError
from itop_intercom.logs import get_logger
from itop_intercom.settings.model import ResolvedWorkspace

log = get_logger("itop_intercom.intercom.admins")


class AdminDirectory:
    def __init__(
        self,
        client_for: Callable[[ResolvedWorkspace], IntercomClient | None],
        ttl_seconds: float,
    ) -> None:
        """`client_for` gives the workspace's client, or None when it has no access token."""
        self._client_for = client_for
        self._ttl = ttl_seconds
        self._cache: dict[tuple[str, str], tuple[str | None, float]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Task[str | None]] = {}

    async def email(self, workspace: ResolvedWorkspace, admin_id: str) -> str | None:
        """The admin's email as Intercom knows it, or None when it cannot be known."""
        key = (workspace.id, admin_id)
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(workspace, admin_id))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        # Shielded: one caller cancelled must not cancel the look-up the others wait for.
        return await asyncio.shield(task)

    async def _fetch(self, workspace: ResolvedWorkspace, admin_id: str) -> str | None:
        client = self._client_for(workspace)
        if client is None:
            return None
        try:
            admin = await client.get_admin(admin_id)
        except IntercomError as exc:
            if exc.transient:
                raise
            log.warning("admin not found in Intercom", admin=admin_id, error=type(exc).__name__)
            admin = {}
        value = admin.get("email")
        email = value.strip() if isinstance(value, str) and value.strip() else None
        self._cache[(workspace.id, admin_id)] = (email, time.monotonic() + self._ttl)
        return email
