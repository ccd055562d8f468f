"""Where the conversation ↔ ticket links and sync flags live.

With the extension's datamodel installed, links are the ticket's own `intercom_ref`,
`intercom_url` and `intercom_sync_activated` fields, exactly as the PHP extension keeps them, so
both can run side by side during a migration. On an unmodified iTop they live in our database.
Screens and the sync worker only see `LinkStore`, so behaviour is the same either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.itop import oql
from itop_intercom.itop.client import ItopClient, ItopObject
from itop_intercom.itop.errors import ItopApiError
from itop_intercom.itop.tickets import Tickets
from itop_intercom.store.tables import ticket_links

SyncState = Literal["none", "active", "paused", "partial"]

#: Links of one conversation checked against iTop in a branch (the newest first).
BRANCH_MAX_LINKS = 60


@dataclass(frozen=True)
class LinkedTicket:
    ticket: ItopObject
    sync_enabled: bool


@dataclass(frozen=True)
class LinkedTickets:
    tickets: list[LinkedTicket]
    total: int

    @property
    def sync_state(self) -> SyncState:
        if not self.tickets:
            return "none"
        flags = {t.sync_enabled for t in self.tickets}
        if flags == {True}:
            return "active"
        if flags == {False}:
            return "paused"
        return "partial"


@dataclass(frozen=True)
class TicketLink:
    conversation_id: str
    workspace_id: str | None
    sync_enabled: bool
    conversation_url: str | None = None
    """As stored in iTop's `intercom_url` (the iTop store); None in the local store."""


@dataclass(frozen=True)
class LinkBranch:
    """The linked tickets as one branch of a bigger ticket query (Home asks several questions
    in one iTop call): `query` selects them (None: nothing is linked, iTop need not be asked),
    `fields` are what `pick` needs to recognise them among the other branches' tickets."""

    query: str | None
    fields: tuple[str, ...]
    pick: Callable[[Sequence[ItopObject]], LinkedTickets]


def belongs_to_workspace(conversation_url: str, workspace_id: str) -> bool:
    """Whether a ticket's `intercom_url` is compatible with the workspace.

    The extension's `intercom_ref` holds only the conversation id, and conversation ids are not
    unique across workspaces; the URL says which workspace linked the ticket. A ticket without
    a URL (set by hand) is taken as belonging to any workspace.
    """
    if "/a/apps/" not in conversation_url:
        return True
    return f"/a/apps/{quote(workspace_id, safe='')}/" in conversation_url


class LinkStore(Protocol):
    kind: Literal["itop", "local"]

    async def linked(
        self,
        workspace_id: str,
        conversation_id: str,
        *,
        limit: int = 30,
        page: int = 1,
        extra_fields: Sequence[str] = (),
    ) -> LinkedTickets: ...

    async def link(
        self,
        workspace_id: str,
        conversation_id: str,
        ticket_id: int,
        conversation_url: str,
        linked_by: str,
    ) -> None: ...

    async def set_sync(
        self,
        workspace_id: str,
        conversation_id: str,
        enabled: bool,
        *,
        ticket_ids: Sequence[int] | None = None,
    ) -> int: ...

    async def link_if_free(
        self, conversation_id: str, ticket_id: int, conversation_url: str, linked_by: str
    ) -> ItopObject | None: ...

    async def branch(self, workspace_id: str, conversation_id: str) -> LinkBranch: ...

    async def link_of(self, ticket_id: int) -> TicketLink | None: ...

    def creation_fields(self, conversation_id: str, conversation_url: str) -> dict[str, Any]: ...

    async def after_create(
        self, workspace_id: str, conversation_id: str, ticket_id: int, linked_by: str
    ) -> None: ...

    async def synced_ticket_ids(self, workspace_id: str, conversation_id: str) -> list[int]: ...


class ItopFieldLinkStore:
    kind: Literal["itop", "local"] = "itop"

    def __init__(self, tickets: Tickets) -> None:
        self.tickets = tickets
        self._ref = tickets.attr("intercom_ref")
        self._url = tickets.attr("intercom_url")
        self._sync = tickets.attr("intercom_sync_activated")

    async def linked(
        self,
        workspace_id: str,
        conversation_id: str,
        *,
        limit: int = 30,
        page: int = 1,
        extra_fields: Sequence[str] = (),
    ) -> LinkedTickets:
        page_ = await self.tickets.by_conversation(
            conversation_id, limit=limit, page=page, extra_fields=[self._url, *extra_fields]
        )
        mine = [t for t in page_.tickets if belongs_to_workspace(t.get(self._url), workspace_id)]
        others = len(page_.tickets) - len(mine)
        return LinkedTickets(
            [LinkedTicket(t, t.get(self._sync) == "yes") for t in mine], page_.total - others
        )

    async def link(
        self,
        workspace_id: str,
        conversation_id: str,
        ticket_id: int,
        conversation_url: str,
        linked_by: str,
    ) -> None:
        await self.tickets.set_fields(
            ticket_id,
            self.creation_fields(conversation_id, conversation_url),
            comment=f"itop-intercom: linked to Intercom conversation by {linked_by}",
        )

    async def link_if_free(
        self, conversation_id: str, ticket_id: int, conversation_url: str, linked_by: str
    ) -> ItopObject | None:
        """Link the ticket in one call when it is linked to no conversation; return it (id, ref,
        friendlyname), or None when it is not free (linked elsewhere or here, or gone).

        The update's key is an OQL query that matches the ticket only while its `intercom_ref`
        is empty, and iTop refuses an update whose key matches no object (code 100), so the
        check and the write are one call and no link is ever taken from another conversation.
        Should an iTop keep a never-set reference as NULL, the query never matches and the
        caller checks first, as without this."""
        key = (
            f"SELECT {self.tickets.class_} WHERE id = {oql.integer(ticket_id)} AND {self._ref} = ''"
        )
        try:
            return await self.tickets.client.update(
                self.tickets.class_,
                key,
                self.creation_fields(conversation_id, conversation_url),
                "id,ref,friendlyname",
                comment=f"itop-intercom: linked to Intercom conversation by {linked_by}",
            )
        except ItopApiError as exc:
            if exc.code == 100:
                return None
            raise

    async def set_sync(
        self,
        workspace_id: str,
        conversation_id: str,
        enabled: bool,
        *,
        ticket_ids: Sequence[int] | None = None,
    ) -> int:
        """Flip the flag of every linked ticket; `ticket_ids` (the tickets the agent was just
        shown as linked) saves reading them again."""
        if ticket_ids is None:
            linked = await self.linked(workspace_id, conversation_id, limit=100)
            ticket_ids = [item.ticket.id for item in linked.tickets]
        value = "yes" if enabled else "no"
        comment = f"itop-intercom: sync {'resumed' if enabled else 'paused'}"
        # One update per ticket (REST has no bulk verb): sent together, not one after another.
        await asyncio.gather(
            *(
                self.tickets.set_fields(ticket_id, {self._sync: value}, comment=comment)
                for ticket_id in ticket_ids
            )
        )
        return len(ticket_ids)

    async def branch(self, workspace_id: str, conversation_id: str) -> LinkBranch:
        def pick(objects: Sequence[ItopObject]) -> LinkedTickets:
            mine = [
                LinkedTicket(t, t.get(self._sync) == "yes")
                for t in objects
                if t.get(self._ref) == conversation_id
                and belongs_to_workspace(t.get(self._url), workspace_id)
            ]
            return LinkedTickets(mine, len(mine))

        query = self.tickets.conversation_query(conversation_id)
        return LinkBranch(query, (self._ref, self._url, self._sync), pick)

    async def link_of(self, ticket_id: int) -> TicketLink | None:
        ticket = await self.tickets.get(ticket_id, ["id", self._ref, self._url, self._sync])
        if ticket is None or not ticket.get(self._ref):
            return None
        return TicketLink(
            ticket.get(self._ref),
            None,
            ticket.get(self._sync) == "yes",
            ticket.get(self._url) or None,
        )

    def creation_fields(self, conversation_id: str, conversation_url: str) -> dict[str, Any]:
        return {self._ref: conversation_id, self._url: conversation_url, self._sync: "yes"}

    async def after_create(
        self, workspace_id: str, conversation_id: str, ticket_id: int, linked_by: str
    ) -> None:
        return None

    async def synced_ticket_ids(self, workspace_id: str, conversation_id: str) -> list[int]:
        linked = await self.linked(workspace_id, conversation_id, limit=100)
        return [t.ticket.id for t in linked.tickets if t.sync_enabled]


class LocalLinkStore:
    kind: Literal["itop", "local"] = "local"

    def __init__(self, tickets: Tickets, engine: AsyncEngine) -> None:
        self.tickets = tickets
        self.engine = engine

    async def _rows(self, workspace_id: str, conversation_id: str) -> list[Any]:
        query = (
            sa.select(ticket_links.c.ticket_id, ticket_links.c.sync_enabled)
            .where(
                ticket_links.c.workspace_id == workspace_id,
                ticket_links.c.conversation_id == conversation_id,
                ticket_links.c.ticket_class == self.tickets.class_,
            )
            .order_by(ticket_links.c.ticket_id.desc())
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def linked(
        self,
        workspace_id: str,
        conversation_id: str,
        *,
        limit: int = 30,
        page: int = 1,
        extra_fields: Sequence[str] = (),
    ) -> LinkedTickets:
        rows = await self._rows(workspace_id, conversation_id)
        window = rows[(page - 1) * limit : page * limit]
        flags = {int(r.ticket_id): bool(r.sync_enabled) for r in window}
        found = await self.tickets.by_ids(list(flags), extra_fields=extra_fields)
        # A ticket deleted in iTop simply disappears from the list.
        items = [LinkedTicket(t, flags[t.id]) for t in found.tickets if t.id in flags]
        items.sort(key=lambda item: item.ticket.id, reverse=True)
        return LinkedTickets(items, len(rows))

    async def link(
        self,
        workspace_id: str,
        conversation_id: str,
        ticket_id: int,
        conversation_url: str,
        linked_by: str,
    ) -> None:
        await self._upsert(workspace_id, conversation_id, ticket_id, linked_by)

    async def _upsert(
        self, workspace_id: str, conversation_id: str, ticket_id: int, linked_by: str
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.delete(ticket_links).where(
                    ticket_links.c.ticket_class == self.tickets.class_,
                    ticket_links.c.ticket_id == ticket_id,
                )
            )
            await conn.execute(
                sa.insert(ticket_links).values(
                    workspace_id=workspace_id,
                    conversation_id=conversation_id,
                    ticket_class=self.tickets.class_,
                    ticket_id=ticket_id,
                    sync_enabled=True,
                    linked_at=datetime.now(UTC),
                    linked_by=linked_by,
                )
            )

    async def set_sync(
        self,
        workspace_id: str,
        conversation_id: str,
        enabled: bool,
        *,
        ticket_ids: Sequence[int] | None = None,
    ) -> int:
        # One UPDATE covers every link of the conversation: `ticket_ids` is not needed.
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(ticket_links)
                .where(
                    ticket_links.c.workspace_id == workspace_id,
                    ticket_links.c.conversation_id == conversation_id,
                    ticket_links.c.ticket_class == self.tickets.class_,
                )
                .values(sync_enabled=enabled)
            )
            return int(result.rowcount or 0)

    async def link_if_free(
        self, conversation_id: str, ticket_id: int, conversation_url: str, linked_by: str
    ) -> ItopObject | None:
        # The link check is a local read here, made with the ticket's read (one round trip).
        return None

    async def branch(self, workspace_id: str, conversation_id: str) -> LinkBranch:
        rows = (await self._rows(workspace_id, conversation_id))[:BRANCH_MAX_LINKS]
        flags = {int(r.ticket_id): bool(r.sync_enabled) for r in rows}

        def pick(objects: Sequence[ItopObject]) -> LinkedTickets:
            # A ticket deleted in iTop does not come back and is not counted.
            found = [LinkedTicket(t, flags[t.id]) for t in objects if t.id in flags]
            found.sort(key=lambda item: item.ticket.id, reverse=True)
            return LinkedTickets(found, len(found))

        query = self.tickets.ids_query(list(flags)) if flags else None
        return LinkBranch(query, (), pick)

    async def link_of(self, ticket_id: int) -> TicketLink | None:
        query = sa.select(ticket_links).where(
            ticket_links.c.ticket_class == self.tickets.class_,
            ticket_links.c.ticket_id == ticket_id,
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return TicketLink(row.conversation_id, row.workspace_id, bool(row.sync_enabled))

    def creation_fields(self, conversation_id: str, conversation_url: str) -> dict[str, Any]:
        return {}

    async def after_create(
        self, workspace_id: str, conversation_id: str, ticket_id: int, linked_by: str
    ) -> None:
        await self._upsert(workspace_id, conversation_id, ticket_id, linked_by)

    async def synced_ticket_ids(self, workspace_id: str, conversation_id: str) -> list[int]:
        return [
            int(r.ticket_id)
            for r in await self._rows(workspace_id, conversation_id)
            if r.sync_enabled
        ]


async def has_link_fields(client: ItopClient, tickets: Tickets) -> bool:
    """Whether the ticket class carries the extension's three `intercom_*` fields."""
    fields = ",".join(
        [
            "id",
            tickets.attr("intercom_ref"),
            tickets.attr("intercom_url"),
            tickets.attr("intercom_sync_activated"),
        ]
    )
    try:
        await client.get(tickets.class_, f"SELECT {tickets.class_} WHERE id = 0", fields)
    except ItopApiError as exc:
        if exc.code == 100:
            return False
        raise
    return True
