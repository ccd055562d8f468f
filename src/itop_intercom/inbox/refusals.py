"""iTop's refusals of a create call, in words an agent understands, tied to the field at fault.

iTop words its validation errors for developers ("Unexpected value for attribute 'Urgency' (urgency)
: Value not allowed [9]: issues = {0=>…}, class = UserRequest, id = -1"). The shapes iTop 3.2 gives
(null not allowed, value not allowed, too long, wrong format, no item or several items found for an
external key, unknown attribute) are recognised; anything else is shown as iTop said it, without the
"Error: " prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.inbox.labels import attribute_label
from itop_intercom.itop.errors import readable

_ATTRIBUTE_ISSUE = re.compile(
    r"Unexpected value for attribute '[^']*' \((?P<code>\w+)\) : (?P<issue>.+?)(?:: issues = |$)"
)
_KEY_ISSUE = re.compile(r"^(?P<code>\w+): (?P<issue>.+)$")
_NOT_ALLOWED = re.compile(r"Value not allowed \[(?P<value>.*)\]")
_TOO_LONG = re.compile(r"String too long \(found (?P<found>\d+), limited to (?P<max>\d+)\)")


@dataclass(frozen=True)
class Refusal:
    attcode: str | None
    message: str


def _issue_text(ctx: ScreenContext, attcode: str, issue: str) -> str:
    t = ctx.t
    label = attribute_label(ctx, attcode)
    if issue.startswith("Null not allowed"):
        return t("refusal.required", label=label)
    if (found := _NOT_ALLOWED.search(issue)) is not None:
        return t("refusal.not_allowed", label=label, value=found["value"])
    if (found := _TOO_LONG.search(issue)) is not None:
        return t("refusal.too_long", label=label, max=found["max"])
    if issue.startswith("Wrong format"):
        return t("refusal.wrong_format", label=label)
    if issue.startswith("No item found"):
        return t("refusal.no_item", label=label)
    if issue.startswith("Several items found"):
        return t("refusal.several_items", label=label)
    if issue.startswith("Unknown attribute"):
        return t("refusal.unknown_attribute", code=attcode)
    return t("refusal.other", message=f"{label}: {issue}")


def explain(ctx: ScreenContext, message: str) -> Refusal:
    """The field at fault (when iTop names one) and the sentence to show."""
    text = readable(message).strip()
    if (found := _ATTRIBUTE_ISSUE.search(text)) is not None:
        code = found["code"]
        return Refusal(code, _issue_text(ctx, code, found["issue"].strip()))
    if (found := _KEY_ISSUE.match(text)) is not None and " " not in found["code"]:
        code = found["code"]
        return Refusal(code, _issue_text(ctx, code, found["issue"].strip()))
    return Refusal(None, ctx.t("refusal.other", message=text))


def refuses_value(message: str, attcode: str, value: str) -> bool:
    """Whether iTop refused exactly this value of this attribute (e.g. `origin` = `chat` on a
    datamodel that has no such origin)."""
    text = readable(message)
    found = _ATTRIBUTE_ISSUE.search(text)
    if found is None or found["code"] != attcode:
        return False
    allowed = _NOT_ALLOWED.search(found["issue"])
    return allowed is not None and allowed["value"] == value
