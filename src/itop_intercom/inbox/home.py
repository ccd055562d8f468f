"""Home: the first canvas an agent sees next to a conversation.

It must be fast and short (Intercom's Inbox guidance: about 400 px), so it shows counts, not
tickets. Opened again within a minute (Back, Done after an action, the conversation reopened, or
warmed when a webhook announced a message), it is answered from the service's cache without
asking iTop (`home_cache`); otherwise its data is read in one iTop round trip (`home_data`).
Pause / Resume write the sync flags, update the cache with what they wrote, and show Home again.
"""

from __future__ import annotations

import asyncio
from typing import Final

from itop_intercom.inbox import home_data
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.home_cache import HomeView
from itop_intercom.inbox.person import PersonMatch, who
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.links import LinkedTickets

LIST_CAP = 30


async def view(ctx: ScreenContext) -> HomeView:
    """What Home shows: from the cache when fresh, else read from iTop (and kept)."""
    cache = ctx.services.home_cache
    person = who(ctx)
    cached = cache.get(ctx.workspace.id, ctx.conversation_id, person.inputs)
    if cached is not None:
        return cached
    loaded = await home_data.load(ctx.services, ctx.workspace.id, ctx.conversation_id, person)
    cache.put(ctx.workspace.id, ctx.conversation_id, loaded)
    return loaded


async def render(ctx: ScreenContext) -> Canvas:
    shown = await view(ctx)
    return build(ctx, shown.linked, shown.match, shown.ongoing)


async def show(ctx: ScreenContext, _arg: str) -> Canvas:
    return await render(ctx)


async def pause(ctx: ScreenContext, _arg: str) -> Canvas:
    return await _set_sync(ctx, False)


async def resume(ctx: ScreenContext, _arg: str) -> Canvas:
    return await _set_sync(ctx, True)


async def _set_sync(ctx: ScreenContext, enabled: bool) -> Canvas:
    """Flip every linked ticket's flag, then Home. The tickets are those Home just showed when
    it is cached (no read before the writes); otherwise Home is read while the flags are
    written, and shows the flags as written."""
    store = await ctx.services.link_store()
    workspace_id, conversation_id = ctx.workspace.id, ctx.conversation_id
    cache = ctx.services.home_cache
    cached = cache.get(workspace_id, conversation_id, who(ctx).inputs)
    if cached is not None:
        complete = cached.linked.total <= len(cached.linked.tickets)
        ids = [item.ticket.id for item in cached.linked.tickets] if complete else None
        await store.set_sync(workspace_id, conversation_id, enabled, ticket_ids=ids)
        cache.sync_set(workspace_id, conversation_id, enabled)
        shown = cached.with_sync(enabled)
    else:
        _count, loaded = await asyncio.gather(
            store.set_sync(workspace_id, conversation_id, enabled), view(ctx)
        )
        cache.sync_set(workspace_id, conversation_id, enabled)
        shown = loaded.with_sync(enabled)
    return build(ctx, shown.linked, shown.match, shown.ongoing)


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
