"""The one protocol every link store follows: screens, the planner and the back-sync see only
this, so behaviour is the same wherever links live."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from itop_intercom.itop.client import ItopObject
from itop_intercom.links.model import (
    ConversationKey,
    LinkBranch,
    LinkedTickets,
    PolledLink,
    SyncedLink,
    TicketLink,
)


class LinkStore(Protocol):
    kind: Literal["itop", "local"]
    """Where the links live (for logs and diagnostics; callers never switch on it)."""

    async def linked(
        self,
        workspace_id: str,
        conversation_id: str,
        *,
        limit: int = 30,
        page: int = 1,
        extra_fields: Sequence[str] = (),
    ) -> LinkedTickets:
        """The tickets linked to one conversation, newest first, one page."""
        ...

    async def link(
        self,
        workspace_id: str,
        conversation_id: str,
        ticket_id: int,
        conversation_url: str,
        linked_by: str,
    ) -> None:
        """Link the ticket to the conversation (a ticket links to one conversation at most)."""
        ...

    async def set_sync(
        self,
        workspace_id: str,
        conversation_id: str,
        enabled: bool,
        *,
        ticket_ids: Sequence[int] | None = None,
    ) -> int:
        """Pause or resume every ticket of the conversation; returns how many are linked.
        `ticket_ids`: the tickets the agent was just shown as linked (saves reading them)."""
        ...

    async def link_if_free(
        self, conversation_id: str, ticket_id: int, conversation_url: str, linked_by: str
    ) -> ItopObject | None:
        """Link the ticket in one call when it is linked to no conversation and the store can
        check and write at once; return it (id, ref, friendlyname), else None (the caller then
        reads the link first)."""
        ...

    async def branch(self, workspace_id: str, conversation_id: str) -> LinkBranch:
        """The conversation's linked tickets as one branch of Home's single iTop query."""
        ...

    async def link_of(self, ticket_id: int) -> TicketLink | None: ...

    def creation_fields(self, conversation_id: str, conversation_url: str) -> dict[str, Any]:
        """Fields that the ticket's create call carries to link it at once (may be empty)."""
        ...

    async def after_create(
        self, workspace_id: str, conversation_id: str, ticket_id: int, linked_by: str
    ) -> None:
        """Record the link of a ticket just created (when the create call could not)."""
        ...

    async def may_be_created_for(self, ticket_id: int, conversation_id: str) -> bool:
        """Whether a ticket found after a create call that timed out may be the one created
        for this conversation (and not an older ticket of the same caller and title)."""
        ...

    async def synced_ticket_ids(self, workspace_id: str, conversation_id: str) -> list[int]: ...

    async def synced_tickets(
        self, keys: Sequence[ConversationKey]
    ) -> dict[ConversationKey, list[int]]:
        """For each conversation, the ids of its tickets with sync on (sorted), in a few calls
        whatever the number of conversations (the planner's batch)."""
        ...

    async def synced_links(self) -> list[SyncedLink]:
        """Every ticket linked with sync on, with its conversation, in one call."""
        ...

    # -- the back-sync (iTop → Intercom) ---------------------------------------------------------

    def history_codes(self) -> tuple[str, ...]:
        """Ticket attributes whose changes in iTop's history make or pause links (their ops say
        exactly when a link started or stopped); empty when links are not kept in iTop."""
        ...

    def link_fields(self) -> tuple[str, ...]:
        """Ticket fields to read with the changed tickets to know their links (may be empty)."""
        ...

    async def links_known_ahead(self) -> dict[int, list[PolledLink]] | None:
        """Every link by ticket id, without asking iTop; None when the links are only known
        from the tickets themselves (`links_of`)."""
        ...

    def links_of(
        self, tickets: Mapping[int, ItopObject], workspaces: Iterable[str]
    ) -> dict[int, list[PolledLink]]:
        """The links of tickets read with `link_fields()`."""
        ...
