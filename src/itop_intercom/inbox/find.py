"""Find a ticket by its reference, so that a conversation whose contact has no iTop person can
still be linked to an existing ticket (the ongoing list needs a person; this does not)."""

from __future__ import annotations

from typing import Final

from itop_intercom.inbox import detail
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.person_choice import no_person_canvas
from itop_intercom.inbox.registry import Handler

MAX_REFERENCE_CHARS = 64


async def find(ctx: ScreenContext, _arg: str) -> Canvas:
    reference = ctx.input_text("find")
    if not reference:
        return no_person_canvas(ctx, error=ctx.t("find.empty"))
    if len(reference) > MAX_REFERENCE_CHARS:
        return no_person_canvas(ctx, error=ctx.t("find.not_found", reference=reference[:64]))
    ticket = await ctx.services.tickets.find_by_ref(reference)
    if ticket is None:
        return no_person_canvas(ctx, error=ctx.t("find.not_found", reference=reference))
    ctx.stored = {**ctx.stored, "back": "home:noperson"}
    return await detail.show(ctx, str(ticket.id))


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (("find", find),)
