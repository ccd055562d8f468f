"""Links kept in our own database (`ticket_links`), for an iTop without the extension's
datamodel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.tickets import Tickets
from itop_intercom.links.model import (
    ConversationKey,
    LinkBranch,
    LinkedTicket,
    LinkedTickets,
    PolledLink,
    SyncedLink,
    TicketLink,
)
from itop_intercom.store.database import Database
from itop_intercom.store.tables import ticket_links

#: Links of one conversation checked against iTop in Home's query (the newest first).
BRANCH_MAX_LINKS = 60

#: Conversations per query of the planner's batch (bounded so that one statement stays small).
_KEYS_PER_QUERY = 500


class LocalLinkStore:
    kind: Literal["itop", "local"] = "local"

    def __init__(self, tickets: Tickets, db: Database) -> None:
        self.tickets = tickets
        self.db = db

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
        async with self.db.engine.connect() as conn:
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
        async with self.db.write_transaction() as conn:
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
        async with self.db.write_transaction() as conn:
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
        async with self.db.engine.connect() as conn:
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

    async def may_be_created_for(self, ticket_id: int, conversation_id: str) -> bool:
        # The link is written after the create call, so the ticket a timed-out call made is
        # not linked yet; a ticket linked to another conversation is not it.
        link = await self.link_of(ticket_id)
        return link is None or link.conversation_id == conversation_id

    async def synced_ticket_ids(self, workspace_id: str, conversation_id: str) -> list[int]:
        return [
            int(r.ticket_id)
            for r in await self._rows(workspace_id, conversation_id)
            if r.sync_enabled
        ]

    async def synced_tickets(
        self, keys: Sequence[ConversationKey]
    ) -> dict[ConversationKey, list[int]]:
        result: dict[ConversationKey, set[int]] = {key: set() for key in keys}
        conversations = sorted({conversation for _ws, conversation in keys})
        t = ticket_links.c
        async with self.db.engine.connect() as conn:
            for start in range(0, len(conversations), _KEYS_PER_QUERY):
                query = sa.select(t.workspace_id, t.conversation_id, t.ticket_id).where(
                    t.conversation_id.in_(conversations[start : start + _KEYS_PER_QUERY]),
                    t.ticket_class == self.tickets.class_,
                    t.sync_enabled.is_(True),
                )
                for row in (await conn.execute(query)).all():
                    found = result.get((row.workspace_id, row.conversation_id))
                    if found is not None:
                        found.add(int(row.ticket_id))
        return {key: sorted(ids) for key, ids in result.items()}

    async def synced_links(self) -> list[SyncedLink]:
        query = (
            sa.select(
                ticket_links.c.ticket_id,
                ticket_links.c.workspace_id,
                ticket_links.c.conversation_id,
            )
            .where(
                ticket_links.c.ticket_class == self.tickets.class_,
                ticket_links.c.sync_enabled.is_(True),
            )
            .order_by(ticket_links.c.ticket_id)
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [SyncedLink(int(r.ticket_id), r.conversation_id, r.workspace_id) for r in rows]

    def history_codes(self) -> tuple[str, ...]:
        return ()

    def link_fields(self) -> tuple[str, ...]:
        return ()

    async def links_known_ahead(self) -> dict[int, list[PolledLink]] | None:
        query = sa.select(ticket_links).where(ticket_links.c.ticket_class == self.tickets.class_)
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        links: dict[int, list[PolledLink]] = {}
        for r in rows:
            linked_at = r.linked_at
            if isinstance(linked_at, datetime) and linked_at.tzinfo is None:
                linked_at = linked_at.replace(tzinfo=UTC)
            links.setdefault(int(r.ticket_id), []).append(
                PolledLink(
                    int(r.ticket_id),
                    r.workspace_id,
                    r.conversation_id,
                    bool(r.sync_enabled),
                    linked_at,
                )
            )
        return links

    def links_of(
        self, tickets: Mapping[int, ItopObject], workspaces: Iterable[str]
    ) -> dict[int, list[PolledLink]]:
        return {}  # the tickets carry no link here: every link is known ahead
