"""Several ticket questions in one iTop call: an OQL `UNION` of their queries.

Every REST call costs iTop a token check and a bootstrap (about 80 ms on iTop 3.2, most of it
before the query runs), so Home asks its questions (the tickets linked to the conversation, the
ongoing tickets of its person) as one call. What iTop does with a UNION, as recorded on 3.2:
the branches' objects come back as one map, each object once, with nothing saying which branch
matched (the caller tells them apart by their fields); each branch selects one class; `Found: N`
counts the distinct objects whatever the `limit`. A `limit` keeps the answer small; when more
objects matched than came back (`complete` is False), the caller asks its questions separately.
An iTop that ignores `limit` simply sends everything, which is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.tickets import Tickets

#: Objects read at most in one overview; far more than Home's questions usually match.
OVERVIEW_LIMIT = 100


@dataclass(frozen=True)
class Overview:
    objects: list[ItopObject]
    complete: bool
    """Every object matching the union came back."""


async def overview(
    tickets: Tickets, queries: Sequence[str], fields: Sequence[str], *, limit: int = OVERVIEW_LIMIT
) -> Overview:
    """The tickets matching any of `queries` (ticket-class OQL selecting one class each)."""
    if not queries:
        return Overview([], True)
    key = " UNION ".join(queries)
    output = ",".join(dict.fromkeys(["id", *fields]))
    result = await tickets.client.get(tickets.class_, key, output, limit=limit)
    return Overview(result.objects, len(result.objects) >= result.total)
