"""Webhook intake: what to do with a verified notification."""

from __future__ import annotations

from typing import Any

from itop_intercom.runtime import Services
from itop_intercom.settings.model import ResolvedWorkspace


class MalformedNotification(Exception):
    """A notification whose shape is wrong (answered 400: Intercom's retry will not fix it)."""


HANDLED_TOPICS = frozenset(
    {"conversation.user.replied", "conversation.admin.replied", "conversation.admin.noted"}
)


async def accept(
    services: Services, workspace: ResolvedWorkspace, data: dict[str, Any]
) -> tuple[int, dict[str, Any], str]:
    """Return (HTTP status, body, outcome). Processing comes with the sync issue."""
    topic = str(data.get("topic") or "")
    if topic == "ping":
        return 200, {"status": "ok"}, "ping"
    if topic not in HANDLED_TOPICS:
        return 200, {"status": "unsupported", "topic": topic}, "unsupported"
    return 200, {"status": "accepted"}, "accepted"


async def refresh_gauges(services: Services) -> None:
    """Update the queue gauges before /metrics is rendered (filled in by the sync worker)."""
    return None
