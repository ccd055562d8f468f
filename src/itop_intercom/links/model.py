"""What a link store answers: linked tickets, one ticket's link, the links with sync on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import quote, unquote

from itop_intercom.itop.client import ItopObject

SyncState = Literal["none", "active", "paused", "partial"]

#: A conversation of a workspace: (workspace id, conversation id).
ConversationKey = tuple[str, str]


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
class LinkBranch:
    """The linked tickets as one branch of a bigger ticket query (Home asks several questions
    in one iTop call): `query` selects them (None: nothing is linked, iTop need not be asked),
    `fields` are what `pick` needs to recognise them among the other branches' tickets."""

    query: str | None
    fields: tuple[str, ...]
    pick: Callable[[Sequence[ItopObject]], LinkedTickets]


@dataclass(frozen=True)
class TicketLink:
    conversation_id: str
    workspace_id: str | None
    sync_enabled: bool
    conversation_url: str | None = None
    """As stored in iTop's `intercom_url` (the iTop store); None in the local store."""


@dataclass(frozen=True)
class SyncedLink:
    """A ticket linked to a conversation with sync on."""

    ticket_id: int
    conversation_id: str
    workspace_id: str | None
    """Known in the local store; None in the iTop store, where `conversation_url` tells."""
    conversation_url: str | None = None

    def belongs_to(self, workspace_id: str) -> bool:
        if self.workspace_id is not None:
            return self.workspace_id == workspace_id
        return belongs_to_workspace(self.conversation_url or "", workspace_id)


def belongs_to_workspace(conversation_url: str, workspace_id: str) -> bool:
    """Whether a ticket's `intercom_url` is compatible with the workspace.

    The extension's `intercom_ref` holds only the conversation id, and conversation ids are not
    unique across workspaces; the URL says which workspace linked the ticket. A ticket without
    a URL (set by hand) is taken as belonging to any workspace.
    """
    if "/a/apps/" not in conversation_url:
        return True
    return f"/a/apps/{quote(workspace_id, safe='')}/" in conversation_url


@dataclass(frozen=True)
class PolledLink:
    """A link as the back-sync needs it: sync on or off, and when it was made when known."""

    ticket_id: int
    workspace_id: str
    conversation_id: str
    sync_on: bool
    linked_at: datetime | None = None


_WORKSPACE_IN_URL = re.compile(r"/a/apps/([^/?#]+)/")


def workspace_of(conversation_url: str, workspaces: Iterable[str]) -> str | None:
    """The workspace named in a conversation URL; without one, the only configured workspace."""
    match = _WORKSPACE_IN_URL.search(conversation_url or "")
    if match:
        return unquote(match.group(1))
    known = list(workspaces)
    return known[0] if len(known) == 1 else None
