"""Choices read from iTop for the creation form (services of an organisation, subcategories of a
service, or whatever OQL an admin describes), cached briefly.

Every re-render of the form (a choice changed, a search typed) needs the same lists again, and a
real iTop takes about 70 ms per call, so answers are kept for `ttl` seconds and
concurrent identical look-ups share one call. Values are put into the OQL by the caller with
`oql.quote` / `oql.integer`; this module only runs finished queries.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from itop_intercom.itop import oql
from itop_intercom.itop.client import ItopClient

#: More choices than this are not offered (the form's search narrows what is loaded).
MAX_CHOICES = 500


@dataclass(frozen=True)
class Choices:
    options: list[tuple[str, str]]
    """(id, label), sorted by label."""
    total: int
    """How many objects the query matched (may exceed `len(options)`)."""


class Catalog:
    """The cached choices of one iTop (one per service instance, `Services.catalog`)."""

    def __init__(self, client: ItopClient, *, ttl: float = 60.0, max_entries: int = 256) -> None:
        self._client = client
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: dict[tuple[str, str], tuple[float, Choices]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Choices]] = {}

    async def choices(self, query: str, label_attribute: str = "friendlyname") -> Choices:
        key = (query, label_attribute)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Choices] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            result = await self._load(query, label_attribute)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(result)
        if len(self._cache) >= self._max_entries:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (now, result)
        return result

    async def _load(self, query: str, label_attribute: str) -> Choices:
        label = oql.identifier(label_attribute)
        class_ = _selected_class(query)
        result = await self._client.get(class_, query, f"id,{label}", limit=MAX_CHOICES, page=1)
        options = [(str(obj.id), obj.get(label) or str(obj.id)) for obj in result.objects]
        options.sort(key=lambda option: option[1].casefold())
        return Choices(options, result.total)

    def clear(self) -> None:
        self._cache.clear()


def _selected_class(query: str) -> str:
    """The class a `SELECT` returns: iTop wants it as `class`, though the OQL's class wins."""
    words = query.split()
    class_ = words[1] if len(words) > 1 else ""
    return oql.identifier(class_)
