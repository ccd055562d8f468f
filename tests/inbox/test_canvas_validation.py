"""The canvas validator itself: it must reject what Intercom would reject.

(The screen tests run every canvas the app produces through it: see `driver`.)
"""

from __future__ import annotations

from typing import Any

import pytest

from itop_intercom.intercom import canvas as ck
from tests.inbox import canvas_rules
from tests.reference import reference


def _answer(*components: dict[str, Any]) -> dict[str, Any]:
    return ck.canvas(list(components), {"screen": "test"})


def test_a_valid_canvas_passes() -> None:
    canvas_rules.check(
        _answer(
            ck.text("Hello", style="header"),
            ck.list_([ck.list_item("a", "A", subtitle="s"), ck.list_item("b", "B")]),
            ck.dropdown("d", "D", [("1", "one"), ("2", "two")], value="1"),
            ck.single_select("s", "S", [("1", "one"), ("2", "two")], submit=True),
            ck.input_("i", "I", submit=True),
            ck.textarea("ta", "T", error=True),
            ck.data_table([("k", "v")]),
            ck.divider(),
            ck.spacer(),
            ck.url_button("u", "U", "https://example.com"),
            ck.submit_button("go", "Go"),
        ),
    )


@pytest.mark.parametrize(
    ("components", "problem"),
    [
        ([{"type": "button", "id": "x", "label": "L"}], "schema"),
        ([{"type": "text", "text": "t", "style": "loud"}], "schema"),
        ([ck.submit_button("x", "a"), ck.submit_button("x", "b")], "duplicate"),
        ([ck.list_([ck.list_item("x", "a")]), ck.submit_button("x", "b")], "duplicate"),
        (
            [
                {
                    "type": "dropdown",
                    "id": "d",
                    "options": [
                        {"type": "option", "id": 1, "text": "a"},
                        {"type": "option", "id": 2, "text": "b"},
                    ],
                }
            ],
            "schema",
        ),
        (
            [
                {
                    "type": "dropdown",
                    "id": "d",
                    "options": [{"type": "option", "id": "1", "text": "a"}],
                }
            ],
            "options",
        ),
        ([ck.dropdown("d", "D", [("1", "a"), ("2", "b")], value="3")], "not an option"),
        ([ck.text("x" * 70_000)], "64 KB"),
    ],
)
def test_invalid_canvases_are_rejected(components: list[dict[str, Any]], problem: str) -> None:
    if problem == "schema":  # Intercom's schema: reference material outside the repository
        reference(canvas_rules.SCHEMA)
    with pytest.raises(canvas_rules.CanvasError, match=problem):
        canvas_rules.check(_answer(*components))


def test_first_canvas_height() -> None:
    tall = [ck.submit_button(f"b{n}", "B") for n in range(12)]
    canvas_rules.check(_answer(*tall))
    with pytest.raises(canvas_rules.CanvasError, match="400 px"):
        canvas_rules.check(_answer(*tall), first=True)


def test_builders_refuse_what_intercom_refuses() -> None:
    with pytest.raises(ValueError, match="2 to 10"):
        ck.dropdown("d", "D", [("1", "a")])
    with pytest.raises(ValueError, match="2 to 10"):
        ck.single_select("d", "D", [(str(n), "x") for n in range(11)])
    with pytest.raises(ValueError, match="distinct"):
        ck.dropdown("d", "D", [("1", "a"), ("1", "b")])
