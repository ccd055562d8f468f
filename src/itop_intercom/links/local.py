"""Links kept in our own database (`ticket_links`), for an iTop without the extension's
datamodel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from itop_intercom.itop.tickets import Tickets
from itop_intercom.links.model import (
    ConversationKey,
    LinkedTicket,
    LinkedTickets,
    SyncedLink,
    TicketLink,
)
from itop_intercom.store.database import Database
from itop_intercom.store.tables import ticket_links


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

    async def set_sync(self, workspace_id: str, conversation_id: str, enabled: bool) -> int:
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
        result: dict[ConversationKey, list[int]] = {key: [] for key in keys}
        for key in keys:
            result[key] = sorted(set(await self.synced_ticket_ids(*key)))
        return result

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
