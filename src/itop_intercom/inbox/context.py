"""What every Inbox screen gets: the request, the workspace, the services and the texts.

Screens read the previous canvas's `stored_data` and the submitted `input_values` through
`stored` and `inputs`, not from the request: when the agent clicks *Retry* on an error canvas,
the state of the canvas that failed is restored from the error canvas (see `dispatch`), so the
retried action sees exactly what it saw the first time (a filled form stays filled).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itop_intercom.intercom.payloads import CanvasRequest
from itop_intercom.intercom.regions import conversation_url
from itop_intercom.locale import Texts, texts
from itop_intercom.settings.model import ResolvedWorkspace

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

Canvas = dict[str, Any]

#: Key of a canvas request that marks it as coming from the preview page (which signs it with
#: the workspace's secret): Intercom never sends it, so real conversations are never affected.
PREVIEW_KEY = "itop_intercom_preview"


@dataclass
class ScreenContext:
    services: Services
    workspace: ResolvedWorkspace
    request: CanvasRequest
    t: Texts
    stored: dict[str, Any] = field(default_factory=dict)
    """The previous canvas's stored_data (restored from the error canvas on Retry)."""
    inputs: dict[str, Any] = field(default_factory=dict)
    """The submitted input values, keyed by component id (restored on Retry)."""
    deadline: float | None = None
    """Event-loop time by which the canvas must be answered (set by `dispatch`)."""

    @classmethod
    def build(
        cls, services: Services, workspace: ResolvedWorkspace, request: CanvasRequest
    ) -> ScreenContext:
        # stored_data is echoed back by Intercom: anything but an object is treated as empty,
        # so that a strange echo gives a screen, never a crash.
        stored = _as_dict(request.stored_data())
        inputs = _as_dict(request.input_values)
        retry = stored.get("retry")
        if stored.get("screen") == "error" and isinstance(retry, dict):
            stored = _as_dict(retry.get("stored"))
            inputs = _as_dict(retry.get("inputs"))
        return cls(services, workspace, request, texts(workspace.language), stored, inputs)

    @property
    def conversation_id(self) -> str:
        conversation = self.request.conversation
        return str(conversation.id) if conversation is not None else ""

    @property
    def conversation_url(self) -> str:
        return conversation_url(self.workspace.id, self.conversation_id, self.workspace.region)

    @property
    def admin_id(self) -> str | None:
        admin = self.request.admin
        return admin.id if admin is not None else None

    @property
    def agent_label(self) -> str:
        admin = self.request.admin
        return (admin.name or admin.email or str(admin.id)) if admin else "Intercom"

    @property
    def preview(self) -> bool:
        # Only when the preview page is on: a signed request can otherwise never divert notes.
        if not self.services.settings.server.preview:
            return False
        extra = self.request.model_extra or {}
        return extra.get(PREVIEW_KEY) is True

    def time_left(self, *, reserve: float = 0.25, floor: float = 0.05) -> float:
        """Seconds a step may still take so that the canvas is answered within the budget
        (keeping `reserve` seconds to build it), never less than `floor`."""
        if self.deadline is None:
            return self.services.settings.itop.canvas_budget_seconds
        left = self.deadline - asyncio.get_running_loop().time() - reserve
        return max(floor, left)

    def input_text(self, component_id: str) -> str:
        """A submitted value as stripped text ('' when absent or not a string)."""
        value = self.inputs.get(component_id)
        return value.strip() if isinstance(value, str) else ""


def _as_dict(value: object) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}
