"""The back-sync's long-lived objects of one service instance (built by the composition root):
the Intercom admin directory, the iTop user → email cache, and the "poll now" signal."""

from __future__ import annotations

import asyncio
import time

from itop_intercom.itop.history import OP_CLASS
from itop_intercom.sync.back.admins import AdminDirectory


class UserEmails:
    """iTop user id → the email of their person, kept `ttl` seconds (misses included)."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[str, float]] = {}

    def known(self, user_ids: set[int]) -> tuple[dict[int, str], set[int]]:
        found: dict[int, str] = {}
        missing: set[int] = set()
        t = time.monotonic()
        for user_id in user_ids:
            cached = self._cache.get(user_id)
            if cached is not None and cached[1] > t:
                found[user_id] = cached[0]
            else:
                missing.add(user_id)
        return found, missing

    def remember(self, user_ids: set[int], emails: dict[int, str]) -> None:
        until = time.monotonic() + self._ttl
        for user_id in user_ids:
            self._cache[user_id] = (emails.get(user_id, ""), until)


class BacksyncState:
    def __init__(self, admin_cache_seconds: float, user_cache_seconds: float) -> None:
        self.admins = AdminDirectory(admin_cache_seconds)
        self.users = UserEmails(user_cache_seconds)
        self.poll_now = asyncio.Event()
        """Set by the optional iTop webhook signal: the poller reads the history at once."""
        self.posted = asyncio.Event()
        """Set by the poller when it wrote outbox rows: the sender looks at once."""
        self.history_class = OP_CLASS
        """The op class the history is read through (the root class if iTop refuses this)."""
