"""Home: the first canvas an agent sees next to a conversation.

It must be fast and short (Intercom's Inbox guidance: about 400 px), so it shows counts, not
tickets, and reads iTop in at most two round trips: the linked tickets and the person in
parallel, then the person's ongoing tickets (in the first round already when the person is
known from the contact's custom attributes or an earlier choice).
"""

from __future__ import annotations

import asyncio

from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.person import PersonMatch, quick_match, resolve
from itop_intercom.inbox.registry import action
from itop_intercom.intercom import canvas as ck
from itop_intercom.itop.links import LinkedTickets

LIST_CAP = 30


async def _ongoing_total(ctx: ScreenContext, match: PersonMatch) -> int:
    if match.person_id is None:
        return 0
    page = await ctx.services.tickets.ongoing_of_caller(match.person_id, limit=1)
    return page.total


async def render(ctx: ScreenContext) -> Canvas:
    store = await ctx.services.link_store()
    linked_call = store.linked(ctx.workspace.id, ctx.conversation_id, limit=LIST_CAP)
    quick = await quick_match(ctx)
    if quick is not None:
        linked, ongoing = await asyncio.gather(linked_call, _ongoing_total(ctx, quick))
        match = quick
    else:
        linked, match = await asyncio.gather(linked_call, resolve(ctx))
        ongoing = await _ongoing_total(ctx, match)
    return build(ctx, linked, match, ongoing)


@action("home")
@action("retry")
async def show(ctx: ScreenContext, _arg: str) -> Canvas:
    return await render(ctx)


@action("home:pause")
async def pause(ctx: ScreenContext, _arg: str) -> Canvas:
    store = await ctx.services.link_store()
    await store.set_sync(ctx.workspace.id, ctx.conversation_id, False)
    return await render(ctx)


@action("home:resume")
async def resume(ctx: ScreenContext, _arg: str) -> Canvas:
    store = await ctx.services.link_store()
    await store.set_sync(ctx.workspace.id, ctx.conversation_id, True)
    return await render(ctx)


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
