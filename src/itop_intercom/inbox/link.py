"""Linking the conversation to an existing ticket.

The link is written first (iTop fields or our store, with sync on); then a private note tells the
other agents who linked which ticket. A ticket already linked to another conversation is only
re-linked once the agent confirms, because the other conversation then stops reaching it.
"""

from __future__ import annotations

import asyncio
import html
from typing import Final

from itop_intercom.inbox import detail, messages
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.labels import ticket_ref
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.ticket_urls import backoffice_url


async def link(ctx: ScreenContext, argument: str) -> Canvas:
    return await _link(ctx, argument, confirmed=False)


async def relink(ctx: ScreenContext, argument: str) -> Canvas:
    return await _link(ctx, argument, confirmed=True)


async def _link(ctx: ScreenContext, argument: str, *, confirmed: bool) -> Canvas:
    back = detail.back_target(ctx)
    ticket_id = detail.parse_ticket_id(argument)
    if ticket_id is None:
        return detail.not_found(ctx, back)
    store = await ctx.services.link_store()
    if not confirmed:
        # A free ticket is linked by a single conditional write; only a ticket linked already
        # (or gone) is read first. Shielded with its note, as below.

        async def link_free_then_note() -> tuple[ItopObject, bool] | None:
            free = await store.link_if_free(
                ctx.conversation_id, ticket_id, ctx.conversation_url, ctx.agent_label
            )
            if free is None:
                return None
            ctx.services.home_cache.linked_here(ctx.workspace.id, ctx.conversation_id, free)
            return free, await _note(ctx, free)

        done = await asyncio.shield(asyncio.ensure_future(link_free_then_note()))
        if done is not None:
            free, posted = done
            return _done(ctx, free, ctx.t("link.done", ref=ticket_ref(free)), note_posted=posted)
    ticket, current = await asyncio.gather(
        ctx.services.tickets.get(ticket_id, ["id", "ref", "friendlyname"]),
        store.link_of(ticket_id),
    )
    if ticket is None:
        return detail.not_found(ctx, back)
    if current is not None:
        _, here = detail.link_state(ctx, current)
        if here:
            return _done(ctx, ticket, ctx.t("link.already"), note_posted=True)
        if not confirmed:
            return _confirm(ctx, ticket, back)

    async def link_then_note() -> bool:
        await store.link(
            ctx.workspace.id,
            ctx.conversation_id,
            ticket.id,
            ctx.conversation_url,
            ctx.agent_label,
        )
        ctx.services.home_cache.linked_here(ctx.workspace.id, ctx.conversation_id, ticket)
        return await _note(ctx, ticket)

    # Shielded as one: if the canvas budget runs out once iTop has the link, the note is still
    # posted (or scheduled); a Retry finds the ticket linked here and posts nothing more.
    posted = await asyncio.shield(asyncio.ensure_future(link_then_note()))
    return _done(ctx, ticket, ctx.t("link.done", ref=ticket_ref(ticket)), note_posted=posted)


async def _note(ctx: ScreenContext, ticket: ItopObject) -> bool:
    """The private note telling the other agents who linked which ticket."""
    url = backoffice_url(ctx.services.settings, ctx.services.tickets.class_, ticket.id)
    note = ctx.t(
        "note.linked",
        agent=html.escape(ctx.agent_label),
        ticket=f'<a href="{html.escape(url)}">{html.escape(ticket_ref(ticket))}</a>',
    )
    return await messages.post(ctx, "note", f"<p>{note}</p>", marker=url)


def _confirm(ctx: ScreenContext, ticket: ItopObject, back: str) -> Canvas:
    t = ctx.t
    return ck.canvas(
        [
            ck.text(t("link.confirm_title", ref=ticket_ref(ticket)), style="header"),
            ck.text(t("link.confirm_text")),
            ck.submit_button(f"relink:{ticket.id}", t("link.confirm")),
            ck.submit_button(f"ticket:{ticket.id}", t("common.cancel"), style="secondary"),
        ],
        {"screen": "link_confirm", "ticket": ticket.id, "back": back},
    )


def _done(ctx: ScreenContext, ticket: ItopObject, message: str, *, note_posted: bool) -> Canvas:
    t = ctx.t
    components: list[ck.Component] = [ck.text(message)]
    if not note_posted:
        components.append(ck.text(t("link.note_later"), style="muted"))
    components.append(ck.submit_button("home", t("common.done")))
    return ck.canvas(components, {"screen": "link_done", "ticket": ticket.id})


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (
    ("link", link),
    ("relink", relink),
)
