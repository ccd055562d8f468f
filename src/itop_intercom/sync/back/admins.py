"""Which Intercom admin posts an iTop author's message: the admin with the same email.

The workspace's admins (`GET /admins`) are kept for `admin_cache_seconds` (one call per
workspace and period, not one per post), as is the admin who owns the access token (`GET /me`),
who posts when neither the author's email nor a configured default admin gives one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itop_intercom.intercom.client import IntercomClient


@dataclass(frozen=True)
class Poster:
    admin_id: str
    attributed: bool
    """True when the admin is the author themself (no need to write their name)."""


class AdminDirectory:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._by_email: dict[str, tuple[dict[str, str], float]] = {}
        self._me: dict[str, str] = {}

    def forget(self) -> None:
        self._by_email.clear()

    async def _emails(self, workspace_id: str, client: IntercomClient) -> dict[str, str]:
        cached = self._by_email.get(workspace_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        emails: dict[str, str] = {}
        for admin in await client.list_admins():
            email = str(admin.get("email") or "").strip().lower()
            admin_id = str(admin.get("id") or "")
            if email and admin_id and email not in emails:
                emails[email] = admin_id
        self._by_email[workspace_id] = (emails, time.monotonic() + self._ttl)
        return emails

    async def _token_admin(self, workspace_id: str, client: IntercomClient) -> str:
        admin_id = self._me.get(workspace_id)
        if admin_id is None:
            admin_id = str((await client.me()).get("id") or "")
            if admin_id:
                self._me[workspace_id] = admin_id
        return admin_id

    async def poster(
        self, workspace_id: str, client: IntercomClient, email: str, default_admin_id: str
    ) -> Poster:
        key = email.strip().lower()
        if key:
            admin_id = (await self._emails(workspace_id, client)).get(key)
            if admin_id:
                return Poster(admin_id, True)
        fallback = default_admin_id.strip() or await self._token_admin(workspace_id, client)
        return Poster(fallback, False)
