"""Reading what Home shows in one iTop round trip, for a conversation not in the cache.

Home needs the tickets linked to the conversation, who the contact's person is, and how many
ongoing tickets that person has. iTop answers the ticket questions in one call (`overview`: an
OQL UNION of the linked tickets and the person's ongoing tickets, told apart by their fields):

- person known without iTop (the contact's signed iTop identity, an agent's earlier choice, or
  a look-up of the email in the last seconds): one call, plus the person's name read at the same
  time (unless looked up in the last seconds), which the creation form then needs;
- person known by email only (unsigned iTop attributes are only a hint, checked against the
  email's persons): the same call finds the ongoing tickets through a JOIN on the
  person's email, while a second call, sent at the same time, reads the persons with that email
  (iTop returns one class per call, so the persons cannot come in the tickets' answer). Two
  calls, one round trip.

With the local link store, the linked ticket ids come from our database and the call only checks
they still exist in iTop; with nothing linked and no person, iTop is not asked at all. When more
tickets match than one answer holds (`OVERVIEW_LIMIT`), the counts are read separately: a second
round trip, for contacts with scores of ongoing tickets only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from itop_intercom.inbox.home_cache import HomeView
from itop_intercom.inbox.person import (
    PersonMatch,
    Who,
    match_for_email,
    person_for_ref,
    persons_for_email,
    recent_persons_for_email,
    remembered_choice_of,
)
from itop_intercom.itop.overview import overview
from itop_intercom.itop.people import Person
from itop_intercom.links import LinkedTickets

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

#: Linked tickets Home reads when it must count them separately (it shows "30+" beyond).
LINKED_CAP = 30


async def _none() -> None:
    return None


async def load(services: Services, workspace_id: str, conversation_id: str, who: Who) -> HomeView:
    started = services.home_cache.clock()
    store = await services.link_store()
    tickets = services.tickets
    branch = await store.branch(workspace_id, conversation_id)
    ref = who.trusted_ref or await remembered_choice_of(
        services.engine, workspace_id, conversation_id
    )
    match: PersonMatch
    ongoing_query: str | None = None
    persons: Awaitable[list[Person] | None] | None = None
    known: Awaitable[Person | None] | None = None
    if ref is not None:
        match = PersonMatch("found", person_ref=ref)
        ongoing_query = tickets.ongoing_query(ref[1])
        known = person_for_ref(services, ref)  # its name, read at the same time
    elif not who.email:
        match = PersonMatch("no_email")
    else:
        recent = recent_persons_for_email(services, who.email)
        if recent is not None:
            match = match_for_email(recent, who)
            if match.person_id is not None:
                ongoing_query = tickets.ongoing_query(match.person_id)
        else:
            match = PersonMatch("none", email=who.email)  # replaced once the persons are read
            ongoing_query = tickets.ongoing_by_email_query(who.email)
            persons = persons_for_email(services, who.email)
    queries = [q for q in (branch.query, ongoing_query) if q is not None]
    fields = (tickets.attr("caller_id"), tickets.attr("status"), *branch.fields)
    found, candidates, person = await asyncio.gather(
        overview(tickets, queries, fields), persons or _none(), known or _none()
    )
    if candidates is not None:
        match = match_for_email(candidates, who)
    if person is not None:
        match = PersonMatch("found", person=person, person_ref=ref)
    person_id = match.person_id
    if found.complete:
        linked = branch.pick(found.objects)
        ongoing = (
            sum(1 for t in found.objects if tickets.is_ongoing_of(t, person_id))
            if person_id is not None
            else 0
        )
    else:
        linked, ongoing = await _counted_apart(services, workspace_id, conversation_id, person_id)
    return HomeView(who.inputs, linked, match, ongoing, started)


async def _counted_apart(
    services: Services, workspace_id: str, conversation_id: str, person_id: int | None
) -> tuple[LinkedTickets, int]:
    store = await services.link_store()

    async def ongoing() -> int:
        if person_id is None:
            return 0
        return (await services.tickets.ongoing_of_caller(person_id, limit=1)).total

    return await asyncio.gather(
        store.linked(workspace_id, conversation_id, limit=LINKED_CAP), ongoing()
    )
