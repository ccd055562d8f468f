"""What every Inbox screen gets: the request, the workspace, the services and the texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itop_intercom.intercom.payloads import CanvasRequest
from itop_intercom.intercom.regions import conversation_url
from itop_intercom.locale import Texts, texts
from itop_intercom.runtime import Services
from itop_intercom.settings.model import ResolvedWorkspace

Canvas = dict[str, Any]


@dataclass
class ScreenContext:
    services: Services
    workspace: ResolvedWorkspace
    request: CanvasRequest
    t: Texts

    @classmethod
    def build(
        cls, services: Services, workspace: ResolvedWorkspace, request: CanvasRequest
    ) -> ScreenContext:
        return cls(services, workspace, request, texts(workspace.language))

    @property
    def conversation_id(self) -> str:
        return str(self.request.conversation.id)

    @property
    def conversation_url(self) -> str:
        return conversation_url(self.workspace.id, self.conversation_id, self.workspace.region)

    @property
    def agent_label(self) -> str:
        admin = self.request.admin
        return (admin.name or admin.email or str(admin.id)) if admin else "Intercom"
