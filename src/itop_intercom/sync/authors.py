"""Who an entry is written on behalf of, with a cache so that most parts cost no look-up.

An entry is attributed to the iTop user whose email is the part author's, by numeric `user_id`: the
user is looked up once per email and remembered for `author_cache_seconds`, misses included, so a
conversation of fifty messages between two people costs two look-ups, not fifty. Concurrent look-ups
of the same email share one call. No email, no user, or several users with the email (emails are not
unique in iTop) → `user_id: 0` with "<name> (Intercom)" as the author: several matches are reported
in the log, never guessed. Writing with a numeric id rather than iTop's `{"email": …}` search object
also avoids a "Several items found" refusal when a disabled user shares the email.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.people import users_by_email
from itop_intercom.logs import get_logger
from itop_intercom.sync.entries import author_label

log = get_logger("itop_intercom.sync.authors")


class LookupInterrupted(Exception):
    """The shared look-up was cancelled; the waiting deliveries retry later."""

    transient = True


@dataclass(frozen=True)
class EntryAuthor:
    """`user_id` 0 means "no iTop user": the entry then shows `label` verbatim."""

    user_id: int
    label: str


class AuthorDirectory:
    def __init__(self, client: Callable[[], ItopClient], ttl_seconds: float) -> None:
        # A factory: the worker starts even when iTop is not configured yet.
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[int | None, float]] = {}
        self._inflight: dict[str, asyncio.Future[int | None]] = {}

    async def resolve(
        self, email: str | None, name: str | None, author_type: str | None
    ) -> EntryAuthor:
        label = author_label(name, email, author_type)
        key = (email or "").strip().lower()
        if not key:
            return EntryAuthor(0, label)
        user_id = await self._user_id(key)
        return EntryAuthor(user_id or 0, label)

    async def _user_id(self, email: str) -> int | None:
        cached = self._cache.get(email)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        pending = self._inflight.get(email)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._inflight[email] = future
        try:
            users = await users_by_email(self._client(), email)
            user_id: int | None
            if len(users) == 1:
                user_id = users[0].id
            else:
                user_id = None
                if len(users) > 1:
                    log.warning(
                        "several iTop users have the author's email; writing under a name",
                        users=len(users),
                    )
            self._cache[email] = (user_id, time.monotonic() + self._ttl)
            future.set_result(user_id)
            return user_id
        except BaseException as exc:
            # A cancelled look-up must not cancel the other tasks waiting for it.
            shared = exc if isinstance(exc, Exception) else LookupInterrupted()
            future.set_exception(shared)
            # Nobody else may be awaiting it: mark it retrieved so asyncio does not complain.
            future.exception()
            raise
        finally:
            del self._inflight[email]
