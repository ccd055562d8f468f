"""Links kept in the ticket's own `intercom_ref`, `intercom_url` and `intercom_sync_activated`
fields (the extension's datamodel), exactly as the PHP extension keeps them, so that both can
run side by side during a migration."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.errors import ItopApiError
from itop_intercom.itop.tickets import Tickets
from itop_intercom.links.model import (
    ConversationKey,
    LinkBranch,
    LinkedTicket,
    LinkedTickets,
    PolledLink,
    SyncedLink,
    TicketLink,
    belongs_to_workspace,
    workspace_of,
)
from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.links")

#: Conversations per iTop query of the planner's batch (`intercom_ref IN (…)`).
ITOP_BATCH = 100


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

    async def set_sync(
        self,
        workspace_id: str,
        conversation_id: str,
        enabled: bool,
        *,
        ticket_ids: Sequence[int] | None = None,
    ) -> int:
        if ticket_ids is None:
            linked = await self.linked(workspace_id, conversation_id, limit=100)
            ticket_ids = [item.ticket.id for item in linked.tickets if item.sync_enabled != enabled]
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

    async def link_if_free(
        self, conversation_id: str, ticket_id: int, conversation_url: str, linked_by: str
    ) -> ItopObject | None:
        """One conditional write: the update's key is an OQL query that matches the ticket only
        while its `intercom_ref` is empty, and iTop refuses an update whose key matches no
        object (code 100), so no link is ever taken from another conversation. Should an iTop
        keep a never-set reference as NULL, the query never matches and the caller checks
        first, as without this."""
        try:
            return await self.tickets.update_if_unlinked(
                ticket_id,
                self.creation_fields(conversation_id, conversation_url),
                comment=f"itop-intercom: linked to Intercom conversation by {linked_by}",
            )
        except ItopApiError as exc:
            if exc.code == 100:
                return None
            raise

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

    async def may_be_created_for(self, ticket_id: int, conversation_id: str) -> bool:
        # The create call writes the link fields, so the ticket it made is linked here; an
        # older ticket of the caller with the same title is not.
        link = await self.link_of(ticket_id)
        return link is not None and link.conversation_id == conversation_id

    async def synced_ticket_ids(self, workspace_id: str, conversation_id: str) -> list[int]:
        linked = await self.linked(workspace_id, conversation_id, limit=100)
        return [t.ticket.id for t in linked.tickets if t.sync_enabled]

    async def synced_tickets(
        self, keys: Sequence[ConversationKey]
    ) -> dict[ConversationKey, list[int]]:
        conversations = sorted({conversation for _ws, conversation in keys})
        chunks = [
            conversations[start : start + ITOP_BATCH]
            for start in range(0, len(conversations), ITOP_BATCH)
        ]
        found = [
            link for links in await asyncio.gather(*map(self._synced, chunks)) for link in links
        ]
        # Conversation ids are not unique across workspaces: the link URL tells them apart.
        return {
            key: sorted(
                {
                    link.ticket_id
                    for link in found
                    if link.conversation_id == key[1] and link.belongs_to(key[0])
                }
            )
            for key in keys
        }

    async def _synced(self, conversation_ids: list[str]) -> list[SyncedLink]:
        fields = ["id", self._ref, self._url]
        try:
            found = await self.tickets.synced_of_conversations(conversation_ids, fields)
        except ItopApiError:
            if len(conversation_ids) == 1:
                # iTop refuses this one conversation's query: its parts are kept unapplied
                # rather than blocking every other conversation's planning for ever.
                log.error(
                    "cannot read the tickets linked to a conversation",
                    conversation=conversation_ids[0],
                )
                return []
            # Find the one iTop refuses.
            return [link for single in conversation_ids for link in await self._synced([single])]
        return [self._synced_link(ticket) for ticket in found]

    async def synced_links(self) -> list[SyncedLink]:
        found = await self.tickets.synced(["id", self._ref, self._url])
        return [self._synced_link(ticket) for ticket in found if ticket.get(self._ref)]

    def _synced_link(self, ticket: ItopObject) -> SyncedLink:
        return SyncedLink(ticket.id, ticket.get(self._ref), None, ticket.get(self._url) or None)

    def history_codes(self) -> tuple[str, ...]:
        return (self._ref, self._sync)

    def link_fields(self) -> tuple[str, ...]:
        return (self._ref, self._url, self._sync)

    async def links_known_ahead(self) -> dict[int, list[PolledLink]] | None:
        return None  # they live in the tickets: read with the changed tickets, at no extra cost

    def links_of(
        self, tickets: Mapping[int, ItopObject], workspaces: Iterable[str]
    ) -> dict[int, list[PolledLink]]:
        known = list(workspaces)
        links: dict[int, list[PolledLink]] = {}
        for ticket_id, ticket in tickets.items():
            conversation = ticket.get(self._ref).strip()
            workspace = workspace_of(ticket.get(self._url), known) if conversation else None
            if workspace is None:
                continue
            sync_on = ticket.get(self._sync) == "yes"
            links[ticket_id] = [PolledLink(ticket_id, workspace, conversation, sync_on)]
        return links
