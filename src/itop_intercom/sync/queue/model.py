"""Deliveries, claims and the states of a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ConversationKey = tuple[str, str]

PENDING = "pending"
DONE = "done"
DEAD = "dead"
STATES = (PENDING, DONE, DEAD)


@dataclass(frozen=True)
class PartRef:
    """What planning needs to know of a stored part."""

    row_id: int
    workspace_id: str
    conversation_id: str
    part_id: str
    part_created_at: int
    part_seq: int

    @property
    def key(self) -> ConversationKey:
        return (self.workspace_id, self.conversation_id)


@dataclass
class Delivery:
    """A pending delivery with everything needed to apply it (delivery + part columns)."""

    id: int
    part_row_id: int
    workspace_id: str
    conversation_id: str
    ticket_class: str
    ticket_id: int
    origin: str
    attempts: int
    due_at: float
    age_from: float
    started_at: float | None
    step: str | None
    progress: dict[str, Any]
    part_id: str
    part_type: str
    topic: str
    log: str | None
    author_type: str | None
    author_name: str | None
    author_email: str | None
    body: str | None
    attachments: list[dict[str, Any]]
    part_created_at: int
    received_at: datetime

    @property
    def key(self) -> ConversationKey:
        return (self.workspace_id, self.conversation_id)


@dataclass(frozen=True)
class Claim:
    key: ConversationKey
    taken_over: bool
    """The previous holder's lease expired (it died or stalled): check iTop before writing."""
