"""Drives the Inbox app the way Intercom does: signed initialize / submit requests through the
app, each submit carrying the values of every input shown and the previous canvas.

`click` refuses ids that the current canvas does not show (or shows disabled): a test can only
do what an agent could. Every answer is validated by `canvas_rules.check`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from itop_intercom.intercom.canvas import components_of, stored_data_of
from tests.fakes.signing import (
    DEFAULT_ADMIN_ID,
    canvas_initialize_body,
    canvas_submit_body,
    signed_canvas,
)
from tests.inbox import canvas_rules

INTERACTIVE = ("input", "textarea", "dropdown", "single-select", "checkbox")


def walk(components: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for component in components:
        out.append(component)
        if component.get("type") == "list":
            out.extend(component.get("items") or [])
    return out


@dataclass
class Inbox:
    http: httpx.AsyncClient
    workspace: str
    secret: str
    conversation_id: str = "215470926154826"
    contact_email: str | None = "agatha.christie@demo.com"
    contact_attributes: dict[str, Any] = field(default_factory=dict)
    parts: list[dict[str, Any]] | None = None
    source_body: str | None = None
    admin_id: str = DEFAULT_ADMIN_ID
    extra: dict[str, Any] = field(default_factory=dict)
    """Added to every request body (e.g. the preview marker)."""
    subject: str | None = None
    """The subject of the conversation's opening message."""
    hook: Callable[[dict[str, Any]], None] | None = None
    """Changes every request body before it is signed."""
    answer: dict[str, Any] = field(default_factory=dict)

    # -- requests ---------------------------------------------------------------------------

    def _common(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "contact_email": self.contact_email,
            "contact_custom_attributes": self.contact_attributes,
            "parts": self.parts,
            "admin_id": self.admin_id,
        }

    async def _post(self, path: str, body: dict[str, Any], *, first: bool) -> dict[str, Any]:
        body.update(self.extra)
        source = body["conversation"]["source"]
        if self.source_body is not None:
            source["body"] = self.source_body
        if self.subject is not None:
            source["subject"] = self.subject
        if self.hook is not None:
            self.hook(body)
        raw, headers = signed_canvas(body, self.secret)
        response = await self.http.post(path, content=raw, headers=headers)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert isinstance(answer, dict)
        canvas_rules.check(answer, first=first, screen=stored_data_of(answer).get("screen"))
        self.answer = answer
        return answer

    async def initialize(self) -> dict[str, Any]:
        body = canvas_initialize_body(self.workspace, **self._common())
        return await self._post("/intercom/canvas/initialize", body, first=True)

    async def click(self, component_id: str, **inputs: str) -> dict[str, Any]:
        """Click a button / list item / inline input action, after typing `inputs` (keyed by
        component id; `field__title` stands for `field:title`)."""
        shown = {str(c.get("id")): c for c in walk(self.components) if "id" in c}
        target = shown.get(component_id)
        assert target is not None, f"{component_id!r} is not on the canvas: {sorted(shown)}"
        assert not target.get("disabled"), f"{component_id!r} is disabled"
        values = self.values()
        for key, value in inputs.items():
            cid = key.replace("__", ":")
            assert cid in values, f"no input {cid!r} on the canvas: {sorted(values)}"
            values[cid] = value
        body = canvas_submit_body(
            self.workspace,
            component_id=component_id,
            input_values=values,
            stored_data=self.stored,
            components=self.components,
            **self._common(),
        )
        return await self._post("/intercom/canvas/submit", body, first=False)

    # -- reading the current canvas -----------------------------------------------------------

    @property
    def components(self) -> list[dict[str, Any]]:
        return components_of(self.answer)

    @property
    def stored(self) -> dict[str, Any]:
        return stored_data_of(self.answer)

    @property
    def screen(self) -> str | None:
        screen = self.stored.get("screen")
        return str(screen) if screen is not None else None

    def values(self) -> dict[str, Any]:
        """What Intercom sends as input_values: every interactive component's value."""
        values: dict[str, Any] = {}
        for c in walk(self.components):
            if c.get("type") in INTERACTIVE:
                values[str(c["id"])] = c.get("value", [] if c["type"] == "checkbox" else "")
        return values

    def ids(self) -> list[str]:
        return [str(c["id"]) for c in walk(self.components) if "id" in c]

    def component(self, component_id: str) -> dict[str, Any]:
        for c in walk(self.components):
            if c.get("id") == component_id:
                return dict(c)
        raise AssertionError(f"{component_id!r} is not on the canvas: {self.ids()}")

    def texts(self) -> list[str]:
        """Every visible string: texts, labels, titles, values, table cells."""
        out: list[str] = []
        for c in walk(self.components):
            for key in ("text", "label", "title", "subtitle", "tertiary_text", "value"):
                if isinstance(c.get(key), str):
                    out.append(c[key])
            for row in c.get("items") or [] if c.get("type") == "data-table" else []:
                out += [row["field"], row["value"]]
            for option in c.get("options") or []:
                out.append(option["text"])
        return out

    def text(self) -> str:
        return "\n".join(self.texts())

    def table(self) -> dict[str, str]:
        for c in self.components:
            if c.get("type") == "data-table":
                return {row["field"]: row["value"] for row in c["items"]}
        raise AssertionError("no data-table on the canvas")

    def options(self, component_id: str) -> list[tuple[str, str]]:
        return [(o["id"], o["text"]) for o in self.component(component_id).get("options", [])]
