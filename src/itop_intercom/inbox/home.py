"""Home: the first canvas an agent sees next to a conversation.

It must be fast and short (Intercom's Inbox guidance: about 400 px), so it shows counts, not
tickets, and reads iTop in at most two round trips: the linked tickets in parallel with the
person, whose ongoing tickets are counted as soon as the person is known (at once when the
contact's custom attributes, an earlier choice or a recent look-up already say who it is).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Final

from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.person import PersonMatch, resolve
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.links import LinkedTickets

LIST_CAP = 30


async def _ongoing_total(ctx: ScreenContext, match: PersonMatch) -> int:
    if match.person_id is None:
        return 0
    page = await ctx.services.tickets.ongoing_of_caller(match.person_id, limit=1)
    return page.total


async def render(ctx: ScreenContext, *, after: Awaitable[object] | None = None) -> Canvas:
    """Home; `after` (a change of the links) is awaited before the links are read, while the
    person's look-ups already run."""
    store = await ctx.services.link_store()

    async def linked_now() -> LinkedTickets:
        if after is not None:
            await after
        return await store.linked(ctx.workspace.id, ctx.conversation_id, limit=LIST_CAP)

    async def person_and_ongoing() -> tuple[PersonMatch, int]:
        match = await resolve(ctx)
        return match, await _ongoing_total(ctx, match)

    linked, (match, ongoing) = await asyncio.gather(linked_now(), person_and_ongoing())
    return build(ctx, linked, match, ongoing)


async def show(ctx: ScreenContext, _arg: str) -> Canvas:
    return await render(ctx)


async def pause(ctx: ScreenContext, _arg: str) -> Canvas:
    store = await ctx.services.link_store()
    return await render(ctx, after=store.set_sync(ctx.workspace.id, ctx.conversation_id, False))


async def resume(ctx: ScreenContext, _arg: str) -> Canvas:
    store = await ctx.services.link_store()
    return await render(ctx, after=store.set_sync(ctx.workspace.id, ctx.conversation_id, True))


def _count_label(ctx: ScreenContext, key: str, count: int) -> str:
    if count > LIST_CAP:
        return ctx.t(f"{key}_more", count=LIST_CAP)
    return ctx.t(key, count=count)


def build(ctx: ScreenContext, linked: LinkedTickets, match: PersonMatch, ongoing: int) -> Canvas:
    t = ctx.t
    items = [
        ck.list_item("home:create", t("home.create"), disabled=match.person_id is None),
        ck.list_item(
            "home:linked",
            _count_label(ctx, "home.linked", linked.total),
            disabled=linked.total == 0,
        ),
        ck.list_item(
            "home:ongoing", _count_label(ctx, "home.ongoing", ongoing), disabled=ongoing == 0
        ),
    ]
    components = [ck.list_(items)]
    person_line = _person_line(ctx, match)
    if person_line is not None:
        components.append(person_line)
    components.append(ck.divider())
    state = linked.sync_state
    if state == "none":
        components.append(ck.text(t("home.no_link"), style="muted"))
    elif state == "active":
        components.append(ck.text(t("home.sync_active")))
        components.append(ck.submit_button("home:pause", t("home.pause"), style="secondary"))
    elif state == "paused":
        components.append(ck.text(t("home.sync_paused")))
        components.append(ck.submit_button("home:resume", t("home.resume")))
    else:
        components.append(ck.text(t("home.sync_partial"), style="error"))
        components.append(ck.submit_button("home:resume", t("home.resume")))
    return ck.canvas(components, {"screen": "home"})


def _person_line(ctx: ScreenContext, match: PersonMatch) -> ck.Component | None:
    t = ctx.t
    if match.kind == "found" and match.person is not None:
        return ck.text(t("home.person_is", name=match.person.name), style="muted")
    if match.kind == "none":
        title = t("home.person_unknown", email=match.email)
        return ck.list_([ck.list_item("home:noperson", title, subtitle=t("home.what_now"))])
    if match.kind == "no_email":
        title = t("home.person_no_email")
        return ck.list_([ck.list_item("home:noperson", title, subtitle=t("home.what_now"))])
    if match.kind == "ambiguous":
        title = t("home.person_ambiguous", count=len(match.candidates), email=match.email)
        return ck.list_([ck.list_item("home:person", title, subtitle=t("home.choose_person"))])
    return None


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (
    ("home", show),
    ("retry", show),
    ("home:pause", pause),
    ("home:resume", resume),
)
