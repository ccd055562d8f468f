"""Ticket detail: the ticket's reference, its link state, the configured detail attributes, and
the buttons *Link to conversation*, *Open in iTop* and *Back*.

The ticket and its link are read in parallel (one round trip). External keys are shown by their
friendly name (iTop returns `<attcode>_friendlyname` when asked), HTML as text, enumerations by
their label, and case logs are left out: they are long, and the conversation is right there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.labels import attribute_label, ticket_ref, value_label
from itop_intercom.inbox.plain import html_to_text, one_line
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.intercom.regions import conversation_url
from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.ticket_urls import backoffice_url
from itop_intercom.links import TicketLink

VALUE_CHARS = 300
EMPTY_VALUE = "–"


def parse_ticket_id(argument: str) -> int | None:
    return int(argument) if argument.isdigit() and len(argument) <= 12 else None


def back_target(ctx: ScreenContext) -> str:
    """Where Back leads: the list page (or screen) the ticket was opened from, else Home."""
    back = ctx.stored.get("back")
    if isinstance(back, str) and back and ctx.services.actions.resolve(back) is not None:
        return back
    return "home"


def detail_fields(ctx: ScreenContext) -> list[str]:
    tickets = ctx.services.tickets
    fields = ["id", "ref", "friendlyname", tickets.attr("status")]
    for attcode in ctx.services.settings.view_ticket.details_attributes:
        fields.append(attcode)
        if attcode.endswith("_id"):
            fields.append(f"{attcode}_friendlyname")
    return list(dict.fromkeys(fields))


async def show(ctx: ScreenContext, argument: str) -> Canvas:
    ticket_id = parse_ticket_id(argument)
    if ticket_id is None:
        return not_found(ctx, back_target(ctx))
    store = await ctx.services.link_store()
    ticket, link = await asyncio.gather(
        ctx.services.tickets.get(ticket_id, detail_fields(ctx)), store.link_of(ticket_id)
    )
    if ticket is None:
        return not_found(ctx, back_target(ctx))
    return build(ctx, ticket, link, back_target(ctx))


def not_found(ctx: ScreenContext, back: str) -> Canvas:
    return ck.canvas(
        [
            ck.text(ctx.t("detail.not_found"), style="error"),
            ck.submit_button(back, ctx.t("common.back"), style="secondary"),
        ],
        {"screen": "detail", "back": back},
    )


def _display(ctx: ScreenContext, attcode: str, raw: Any, fields: Mapping[str, Any]) -> str | None:
    """The value as shown, or None for values that are not shown (case logs)."""
    if isinstance(raw, dict | list):
        return None
    friendly = fields.get(f"{attcode}_friendlyname")
    if attcode.endswith("_id") and friendly is not None:
        return str(friendly) or EMPTY_VALUE
    text = "" if raw is None else str(raw)
    text = html_to_text(text) if looks_like_html(text) else value_label(ctx, attcode, text)
    return one_line(text, VALUE_CHARS) if text else EMPTY_VALUE


def looks_like_html(text: str) -> bool:
    """iTop's HTML attributes always start with a tag (it wraps bare text in `<p>`),
    while a title that merely contains `<` does not: REST says nothing about attribute kinds."""
    stripped = text.lstrip()
    return stripped.startswith("<") and ">" in stripped


def link_state(ctx: ScreenContext, link: TicketLink | None) -> tuple[str, bool]:
    """The sentence describing the link, and whether it is linked to this conversation."""
    t = ctx.t
    if link is None:
        return t("detail.not_linked"), False
    same_workspace = link.workspace_id in (None, ctx.workspace.id)
    if same_workspace and link.conversation_id == ctx.conversation_id:
        key = "detail.linked_here" if link.sync_enabled else "detail.linked_here_paused"
        return t(key), True
    url = link.conversation_url or conversation_url(
        link.workspace_id or ctx.workspace.id, link.conversation_id, ctx.workspace.region
    )
    return t("detail.linked_elsewhere", url=url), False


def build(ctx: ScreenContext, ticket: ItopObject, link: TicketLink | None, back: str) -> Canvas:
    t = ctx.t
    settings = ctx.services.settings
    mapping = settings.ticket.attributes_mapping
    skipped = {mapping["public_log"], mapping["private_log"]}
    rows: list[tuple[str, str]] = []
    for attcode in dict.fromkeys(settings.view_ticket.details_attributes):
        if attcode in skipped:
            continue
        shown = _display(ctx, attcode, ticket.fields.get(attcode), ticket.fields)
        if shown is not None:
            rows.append((attribute_label(ctx, attcode), shown))
    state, linked_here = link_state(ctx, link)
    components: list[ck.Component] = [
        ck.text(ticket_ref(ticket), style="header"),
        ck.text(state, style="muted"),
    ]
    if rows:
        components.append(ck.data_table(rows))
    components.append(ck.submit_button(f"link:{ticket.id}", t("detail.link"), disabled=linked_here))
    if settings.view_ticket.show_open_in_backoffice_button:
        url = backoffice_url(settings, ctx.services.tickets.class_, ticket.id)
        components.append(ck.url_button(f"open:{ticket.id}", t("detail.open"), url))
    components.append(ck.submit_button(back, t("common.back"), style="secondary"))
    return ck.canvas(components, {"screen": "detail", "ticket": ticket.id, "back": back})


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (("ticket", show),)
