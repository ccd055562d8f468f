"""How attributes, values and tickets are named in canvases.

REST gives attribute codes and raw values only (no labels). Labels come, in this
order, from the form description in the settings, from the service's texts (the standard
UserRequest attributes, in English and French), or are the code itself.
"""

from __future__ import annotations

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.itop.client import ItopObject


def attribute_label(ctx: ScreenContext, attcode: str) -> str:
    spec = ctx.services.settings.create_ticket.fields.get(attcode)
    if spec is not None and spec.label:
        return ctx.t.pick(spec.label)
    return ctx.t.optional(f"attr.{attcode}") or attcode


def value_label(ctx: ScreenContext, attcode: str, value: str) -> str:
    """The label of an enumeration value (e.g. urgency `4` → Low), else the value."""
    spec = ctx.services.settings.create_ticket.fields.get(attcode)
    if spec is not None:
        label = spec.values.get(value)
        if label:
            return ctx.t.pick(label)
    return ctx.t.optional(f"value.{attcode}.{value}") or value


def ticket_ref(ticket: ItopObject) -> str:
    """The ticket's reference (iTop's friendlyname of a ticket is its ref)."""
    return ticket.get("ref") or ticket.get("friendlyname") or f"#{ticket.id}"
