"""The links the poller needs, from whichever store keeps them.

- Links in our database: all of them, read each poll (no iTop call), so that the history query
  can be narrowed to the linked tickets and a pause is noticed within one poll.
- Links in iTop's `intercom_*` fields: read with the changed tickets themselves (the poll's
  second call), so they cost nothing more; the workspace is the one named in `intercom_url`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.itop.client import ItopObject
from itop_intercom.store.tables import ticket_links
from itop_intercom.sync.back.decide import Attributes, LinkView

_WORKSPACE_IN_URL = re.compile(r"/a/apps/([^/?#]+)/")


async def local_links(engine: AsyncEngine, ticket_class: str) -> dict[int, list[LinkView]]:
    query = sa.select(ticket_links).where(ticket_links.c.ticket_class == ticket_class)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    links: dict[int, list[LinkView]] = {}
    for r in rows:
        linked_at = r.linked_at
        if isinstance(linked_at, datetime) and linked_at.tzinfo is None:
            linked_at = linked_at.replace(tzinfo=UTC)
        links.setdefault(int(r.ticket_id), []).append(
            LinkView(
                int(r.ticket_id), r.workspace_id, r.conversation_id, bool(r.sync_enabled), linked_at
            )
        )
    return links


def workspace_of(url: str, workspaces: Iterable[str]) -> str | None:
    """The workspace named in a conversation URL; without one, the only configured workspace."""
    match = _WORKSPACE_IN_URL.search(url or "")
    if match:
        return unquote(match.group(1))
    known = list(workspaces)
    return known[0] if len(known) == 1 else None


def itop_links(
    tickets: Mapping[int, ItopObject], attrs: Attributes, workspaces: Iterable[str]
) -> dict[int, list[LinkView]]:
    known = list(workspaces)
    links: dict[int, list[LinkView]] = {}
    for ticket_id, ticket in tickets.items():
        conversation = ticket.get(attrs.intercom_ref).strip()
        if not conversation:
            continue
        workspace = workspace_of(ticket.get(attrs.intercom_url), known)
        if workspace is None:
            continue
        sync_on = ticket.get(attrs.intercom_sync) == "yes"
        links[ticket_id] = [LinkView(ticket_id, workspace, conversation, sync_on)]
    return links
