"""What Home shows, kept for a minute so that Home opened again costs no iTop call.

An entry per (workspace, conversation) holds exactly what Home displays: the tickets linked to
the conversation (ids and sync flags, for the count and the sync state), who the contact's iTop
person is, and the count of that person's ongoing tickets. It is used while it is younger than
`HOME_CACHE_SECONDS` and only for the same person inputs (the contact's email and iTop
attributes as the canvas request gives them).

Our own writes update the entry in place, since the service knows their effect: a ticket created
or linked here is added to the linked tickets (created: also counted as ongoing when its caller
is the person); Pause / Resume set every linked ticket's flag. A person chosen among several
drops the entry. When the sync reads a conversation's linked tickets and finds others than Home
shows (a ticket unlinked, paused or deleted in iTop), the entry is dropped (`seen_synced`), and
`forget_ticket` drops the entries showing a ticket known to have changed; changes nobody reports
(a ticket closed in iTop's console) show after the entry's age limit at worst. The ticket lists
and the ticket detail never read the counts of this cache (only the person Home showed).

The cache is owned by the composition root (`runtime.Services`), bounded (oldest entries
evicted first), and local to one service instance.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from itop_intercom.itop.client import ItopObject
from itop_intercom.links import LinkedTicket, LinkedTickets

if TYPE_CHECKING:
    from itop_intercom.inbox.person import PersonMatch

#: How old Home's counts may be when shown: a minute covers an agent's clicks around Home
#: (Back, after an action, opening the conversation again) while iTop changes show soon.
HOME_CACHE_SECONDS = 60.0
HOME_CACHE_MAX_ENTRIES = 10_000

#: What identifies the contact's person in a canvas request: its iTop identity (signed or a
#: hint, see `messenger.trust`), or None, and its email (lower case).
PersonInputs = tuple[object, str]


@dataclass(frozen=True)
class HomeView:
    inputs: PersonInputs
    linked: LinkedTickets
    match: PersonMatch
    ongoing: int
    at: float
    """`time.monotonic()` when iTop was read."""

    def with_sync(self, enabled: bool) -> HomeView:
        tickets = [LinkedTicket(t.ticket, enabled) for t in self.linked.tickets]
        return replace(self, linked=LinkedTickets(tickets, self.linked.total))


_Key = tuple[str, str]


class HomeCache:
    def __init__(
        self,
        *,
        seconds: float = HOME_CACHE_SECONDS,
        max_entries: int = HOME_CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[_Key, HomeView] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self, workspace_id: str, conversation_id: str, inputs: PersonInputs | None = None
    ) -> HomeView | None:
        """The fresh entry (for these person inputs, when given), else None."""
        key = (workspace_id, conversation_id)
        view = self._entries.get(key)
        if view is None:
            return None
        if self.clock() - view.at >= self.seconds:
            del self._entries[key]
            return None
        if inputs is not None and view.inputs != inputs:
            return None
        return view

    def put(self, workspace_id: str, conversation_id: str, view: HomeView) -> None:
        key = (workspace_id, conversation_id)
        self._entries[key] = view
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, workspace_id: str, conversation_id: str) -> None:
        self._entries.pop((workspace_id, conversation_id), None)

    def forget_ticket(self, ticket_id: int) -> None:
        """iTop changed this ticket (seen by the sync): drop the entries that show it."""
        stale = [
            key
            for key, view in self._entries.items()
            if any(t.ticket.id == ticket_id for t in view.linked.tickets)
        ]
        for key in stale:
            del self._entries[key]

    def seen_synced(
        self, workspace_id: str, conversation_id: str, ticket_ids: Collection[int]
    ) -> None:
        """The sync read the conversation's linked tickets with sync on: when Home shows
        others (a ticket unlinked, paused or deleted in iTop), its entry is dropped."""
        view = self.get(workspace_id, conversation_id)
        if view is None:
            return
        shown = {t.ticket.id for t in view.linked.tickets if t.sync_enabled}
        if shown != set(ticket_ids):
            self.forget(workspace_id, conversation_id)

    # -- our own writes -------------------------------------------------------------------------

    def linked_here(
        self,
        workspace_id: str,
        conversation_id: str,
        ticket: ItopObject,
        *,
        created_for: int | None = None,
    ) -> None:
        """A ticket was linked to the conversation (created: `created_for` is its caller)."""
        view = self.get(workspace_id, conversation_id)
        if view is None:
            return
        others = [t for t in view.linked.tickets if t.ticket.id != ticket.id]
        known = len(others) != len(view.linked.tickets)
        tickets = sorted(
            [LinkedTicket(ticket, True), *others], key=lambda t: t.ticket.id, reverse=True
        )
        linked = LinkedTickets(tickets, view.linked.total + (0 if known else 1))
        ongoing = view.ongoing
        if created_for is not None and created_for == view.match.person_id:
            ongoing += 1
        # The entry keeps its age: the counts are still as old as the last read of iTop.
        self._entries[(workspace_id, conversation_id)] = replace(
            view, linked=linked, ongoing=ongoing
        )

    def sync_set(self, workspace_id: str, conversation_id: str, enabled: bool) -> None:
        view = self.get(workspace_id, conversation_id)
        if view is not None:
            self._entries[(workspace_id, conversation_id)] = view.with_sync(enabled)
