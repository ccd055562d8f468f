"""HomeCache: age limit, person inputs, our writes applied in place, invalidation, bound."""

from __future__ import annotations

from itop_intercom.inbox.home_cache import HomeCache, HomeView
from itop_intercom.inbox.person import PersonMatch
from itop_intercom.itop.client import ItopObject
from itop_intercom.links import LinkedTicket, LinkedTickets

WS, CONV = "ws1", "c1"
EMAIL_INPUTS = (None, "agatha@demo.com")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ticket(ticket_id: int) -> ItopObject:
    return ItopObject("UserRequest", str(ticket_id), {})


def view(clock: Clock, *ids: int, ongoing: int = 1, person: int = 15) -> HomeView:
    linked = LinkedTickets([LinkedTicket(ticket(i), True) for i in ids], len(ids))
    match = PersonMatch("found", person_ref=("Person", person))
    return HomeView(EMAIL_INPUTS, linked, match, ongoing, clock())


def test_fresh_for_a_minute_and_for_the_same_person_inputs_only() -> None:
    clock = Clock()
    cache = HomeCache(clock=clock)
    cache.put(WS, CONV, view(clock, 7))
    assert cache.get(WS, CONV, EMAIL_INPUTS) is not None
    assert cache.get(WS, CONV, (("Person", 15), "agatha@demo.com")) is None
    assert cache.get("ws2", CONV) is None
    clock.now += 59.9
    assert cache.get(WS, CONV) is not None
    clock.now += 0.1
    assert cache.get(WS, CONV) is None
    assert len(cache) == 0


def test_link_and_create_are_applied_without_rejuvenating_the_entry() -> None:
    clock = Clock()
    cache = HomeCache(clock=clock)
    cache.put(WS, CONV, view(clock, 7))
    clock.now += 30
    cache.linked_here(WS, CONV, ticket(8))
    cache.linked_here(WS, CONV, ticket(8))  # the same ticket twice counts once
    cache.linked_here(WS, CONV, ticket(9), created_for=15)
    cache.linked_here(WS, CONV, ticket(10), created_for=99)  # another caller: not ongoing
    shown = cache.get(WS, CONV)
    assert shown is not None
    assert [t.ticket.id for t in shown.linked.tickets] == [10, 9, 8, 7]
    assert shown.linked.total == 4 and shown.ongoing == 2
    clock.now += 30
    assert cache.get(WS, CONV) is None  # still as old as the last read of iTop


def test_pause_resume_set_every_flag() -> None:
    clock = Clock()
    cache = HomeCache(clock=clock)
    cache.put(WS, CONV, view(clock, 7, 8))
    cache.sync_set(WS, CONV, False)
    shown = cache.get(WS, CONV)
    assert shown is not None and shown.linked.sync_state == "paused"
    cache.sync_set(WS, CONV, True)
    shown = cache.get(WS, CONV)
    assert shown is not None and shown.linked.sync_state == "active"


def test_changes_seen_by_the_sync_drop_the_entry() -> None:
    clock = Clock()
    cache = HomeCache(clock=clock)
    cache.put(WS, CONV, view(clock, 7, 8))
    cache.put(WS, "c2", view(clock, 9))
    cache.seen_synced(WS, CONV, [8, 7])  # as shown: kept
    assert cache.get(WS, CONV) is not None
    cache.seen_synced(WS, CONV, [7])  # ticket 8 paused or unlinked in iTop
    assert cache.get(WS, CONV) is None
    cache.forget_ticket(9)
    assert cache.get(WS, "c2") is None


def test_bounded_oldest_first() -> None:
    clock = Clock()
    cache = HomeCache(clock=clock, max_entries=2)
    for conversation in ("a", "b", "c"):
        cache.put(WS, conversation, view(clock))
    assert cache.get(WS, "a") is None
    assert cache.get(WS, "b") is not None and cache.get(WS, "c") is not None
