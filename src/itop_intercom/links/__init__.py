"""Where the conversation ↔ ticket links and sync flags live, behind one protocol.

With the extension's datamodel installed, links are the ticket's own `intercom_*` fields
(`itop_fields`); on an unmodified iTop they live in our database (`local`). Screens, the planner
and the back-sync only see `LinkStore`, so behaviour is the same either way; nothing outside
this package looks at where links live.
"""

from __future__ import annotations

from itop_intercom.itop.tickets import Tickets
from itop_intercom.links.itop_fields import ItopFieldLinkStore
from itop_intercom.links.local import LocalLinkStore
from itop_intercom.links.model import (
    ConversationKey,
    LinkBranch,
    LinkedTicket,
    LinkedTickets,
    PolledLink,
    SyncedLink,
    SyncState,
    TicketLink,
    belongs_to_workspace,
)
from itop_intercom.links.store import LinkStore
from itop_intercom.store.database import Database

__all__ = (
    "ConversationKey",
    "ItopFieldLinkStore",
    "LinkBranch",
    "LinkStore",
    "LinkedTicket",
    "LinkedTickets",
    "LocalLinkStore",
    "PolledLink",
    "SyncState",
    "SyncedLink",
    "TicketLink",
    "belongs_to_workspace",
    "has_link_fields",
    "open_link_store",
)

LINK_FIELDS = ("intercom_ref", "intercom_url", "intercom_sync_activated")


async def has_link_fields(tickets: Tickets) -> bool:
    """Whether the ticket class carries the extension's three `intercom_*` fields."""
    return await tickets.has_attributes([tickets.attr(logical) for logical in LINK_FIELDS])


async def open_link_store(choice: str, tickets: Tickets, db: Database) -> LinkStore:
    """The store the settings choose (`itop`, `local`); `auto` asks iTop about its fields."""
    if choice == "auto":
        choice = "itop" if await has_link_fields(tickets) else "local"
    return ItopFieldLinkStore(tickets) if choice == "itop" else LocalLinkStore(tickets, db)
