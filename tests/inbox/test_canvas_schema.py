"""The canvases of the screen tests are validated against Intercom's Canvas Kit schema too.

The schema is reference material outside the repository; without it `canvas_rules.check` keeps
its own rules only. This test makes that visible: skipped with the reason, failed under CI.
"""

from __future__ import annotations

import pytest

from tests.inbox import canvas_rules
from tests.reference import reference


def test_canvas_kit_schema_is_there_and_rejects_a_bad_canvas() -> None:
    reference(canvas_rules.SCHEMA)
    assert canvas_rules.schema_available()
    bad = {"canvas": {"content": {"components": [{"type": "button", "id": "b"}]}}}
    with pytest.raises(canvas_rules.CanvasError, match="schema: "):
        canvas_rules.check(bad, first=True)
