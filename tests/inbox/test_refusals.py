"""iTop's refusals, as recorded in the transcripts, in an agent's words."""

from __future__ import annotations

from typing import Any

import pytest

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.inbox.refusals import explain, refuses_value
from itop_intercom.locale import Texts
from itop_intercom.settings.model import Settings


class _Services:
    def __init__(self) -> None:
        self.settings = Settings()


def _ctx(language: str) -> ScreenContext:
    services: Any = _Services()
    return ScreenContext(services, None, None, Texts(language))  # type: ignore[arg-type]


#: Messages of transcripts 029, 031, 033, 034 and 037 (vanilla), and quirk 18.
CASES = [
    (
        "Error: Unexpected value for attribute 'Title' (title) : Null not allowed: issues = "
        "{0=>Unexpected value for attribute 'Title' (title) : Null not allowed}, class = "
        "UserRequest, id = -1",
        "title",
        ("refusal.required", {"label": "attr.title"}),
    ),
    (
        "Error: Unexpected value for attribute 'Urgency' (urgency) : Value not allowed [9]: "
        "issues = {0=>Unexpected value for attribute 'Urgency' (urgency) : Value not allowed "
        "[9]}, class = UserRequest, id = -1",
        "urgency",
        ("refusal.not_allowed", {"label": "attr.urgency", "value": "9"}),
    ),
    (
        "Error: caller_id: No item found with criteria: email: unknown.person@demo.com "
        "(unknown.person@demo.com)",
        "caller_id",
        ("refusal.no_item", {"label": "attr.caller_id"}),
    ),
    (
        "Error: caller_id: Several items found (2) with criteria: email: claude.monet@demo.com",
        "caller_id",
        ("refusal.several_items", {"label": "attr.caller_id"}),
    ),
    (
        "Error: intercom_ref: Unknown attribute",
        "intercom_ref",
        ("refusal.unknown_attribute", {"code": "intercom_ref"}),
    ),
    (
        "Error: Unexpected value for attribute 'Title' (title) : String too long (found 300, "
        "limited to 255)",
        "title",
        ("refusal.too_long", {"label": "attr.title", "max": "255"}),
    ),
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(("message", "attcode", "expected"), CASES)
def test_known_refusals(
    language: str, message: str, attcode: str, expected: tuple[str, dict[str, str]]
) -> None:
    t = Texts(language)
    key, values = expected
    resolved = {k: (t(v) if v.startswith("attr.") else v) for k, v in values.items()}
    refusal = explain(_ctx(language), message)
    assert refusal.attcode == attcode
    assert refusal.message == t(key, **resolved)


def test_unknown_refusal_is_shown_as_itop_says_it() -> None:
    refusal = explain(_ctx("en"), "Error: something odd happened")
    assert refusal.attcode is None
    assert refusal.message == Texts("en")("refusal.other", message="something odd happened")


def test_refuses_value() -> None:
    message = (
        "Error: Unexpected value for attribute 'Origin' (origin) : Value not allowed [chat]: "
        "issues = {…}"
    )
    assert refuses_value(message, "origin", "chat")
    assert not refuses_value(message, "origin", "mail")
    assert not refuses_value(message, "urgency", "chat")
