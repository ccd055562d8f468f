"""The two ticket lists: tickets linked to the conversation, ongoing tickets of the person.

A page holds at most 30 tickets (the extension's cap), but unlike the extension the list says
when there are more and offers the next page instead of silently cutting. Each item shows the
ticket's reference, the configured subtitle attribute, and its status; clicking opens the detail,
whose Back button returns to the same page (kept in stored_data).
"""

from __future__ import annotations

from typing import Final, Literal

from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.detail import looks_like_html
from itop_intercom.inbox.labels import ticket_ref, value_label
from itop_intercom.inbox.person import resolve
from itop_intercom.inbox.plain import html_to_text, one_line
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.itop.client import ItopObject

PAGE_SIZE = 30
SUBTITLE_CHARS = 80

ListKind = Literal["linked", "ongoing"]


def _page_number(argument: str) -> int:
    try:
        return max(1, min(int(argument), 10_000))
    except ValueError:
        return 1


async def linked_first(ctx: ScreenContext, _arg: str) -> Canvas:
    return await linked(ctx, "1")


async def linked(ctx: ScreenContext, argument: str) -> Canvas:
    page = _page_number(argument)
    store = await ctx.services.link_store()
    result = await store.linked(ctx.workspace.id, ctx.conversation_id, limit=PAGE_SIZE, page=page)
    paused = {item.ticket.id for item in result.tickets if not item.sync_enabled}
    tickets = [item.ticket for item in result.tickets]
    return build(ctx, "linked", tickets, result.total, page, paused=paused)


async def ongoing_first(ctx: ScreenContext, _arg: str) -> Canvas:
    return await ongoing(ctx, "1")


async def ongoing(ctx: ScreenContext, argument: str) -> Canvas:
    page = _page_number(argument)
    match = await resolve(ctx)  # the person Home just showed; the list is read from iTop
    if match.person_id is None:
        # The person is unknown or ambiguous (the Home item was disabled, the canvas is stale).
        return build(ctx, "ongoing", [], 0, 1)
    result = await ctx.services.tickets.ongoing_of_caller(
        match.person_id, limit=PAGE_SIZE, page=page
    )
    return build(ctx, "ongoing", result.tickets, result.total, page)


def _item(ctx: ScreenContext, ticket: ItopObject, paused: bool) -> ck.Component:
    tickets = ctx.services.tickets
    raw = ticket.get(tickets.subtitle_attribute)
    subtitle = one_line(html_to_text(raw) if looks_like_html(raw) else raw, SUBTITLE_CHARS)
    status_code = tickets.attr("status")
    status = value_label(ctx, status_code, ticket.get(status_code))
    tertiary = ctx.t("list.status_paused", status=status) if paused else status
    return ck.list_item(
        f"ticket:{ticket.id}", ticket_ref(ticket), subtitle=subtitle, tertiary_text=tertiary
    )


def build(
    ctx: ScreenContext,
    kind: ListKind,
    tickets: list[ItopObject],
    total: int,
    page: int,
    *,
    paused: set[int] | frozenset[int] = frozenset(),
) -> Canvas:
    t = ctx.t
    components: list[ck.Component] = [ck.text(t(f"list.{kind}.title"), style="header")]
    if not tickets:
        components.append(ck.text(t(f"list.{kind}.empty"), style="muted"))
    else:
        first = (page - 1) * PAGE_SIZE + 1
        last = first + len(tickets) - 1
        if total > len(tickets):
            components.append(ck.text(t("list.range", first=first, last=last, total=total)))
        components.append(ck.list_([_item(ctx, tk, tk.id in paused) for tk in tickets]))
        remaining = total - last
        if remaining > 0:
            count = min(remaining, PAGE_SIZE)
            components.append(
                ck.submit_button(f"list:{kind}:{page + 1}", t("list.next", count=count))
            )
        if page > 1:
            components.append(
                ck.submit_button(f"list:{kind}:{page - 1}", t("list.previous"), style="secondary")
            )
    components.append(ck.submit_button("home", t("common.back"), style="secondary"))
    return ck.canvas(components, {"screen": "list", "back": f"list:{kind}:{page}"})


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (
    ("home:linked", linked_first),
    ("list:linked", linked),
    ("home:ongoing", ongoing_first),
    ("list:ongoing", ongoing),
)
