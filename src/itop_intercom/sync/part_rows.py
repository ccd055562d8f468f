"""The stored-part row (`conversation_parts`), built in one place for the webhook intake and the
history copy. Text is cut to the table's own column widths, so the two can never disagree with
the schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from itop_intercom.intercom.payloads import Attachment, Author
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.sync.entries import classify


def width(column: sa.Column[Any]) -> int:
    """The length of a string column."""
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column.name} has no length")
    return length


#: Longest id stored (workspace, conversation, part): longer ones are refused, not cut.
MAX_ID = width(parts_t.c.part_id)


def _cut(value: str | None, column: sa.Column[Any]) -> str | None:
    """The text cut to the column's width; None when empty."""
    return (value or "")[: width(column)] or None


def is_ai(author: Author) -> bool:
    """Fin / AI-agent answers: written by a bot even when `type` says admin."""
    extra = author.model_extra or {}
    return bool(extra.get("from_ai_agent") or extra.get("is_ai_answer"))


def attachment_rows(attachments: Sequence[Attachment]) -> list[dict[str, Any]]:
    return [
        {"name": a.name, "url": a.url, "content_type": a.content_type, "filesize": a.filesize}
        for a in attachments
    ]


def part_row(
    *,
    workspace_id: str,
    conversation_id: str,
    part_id: str,
    topic: str,
    notification_id: str | None,
    part_type: str | None,
    author: Author | None,
    body: str | None,
    attachments: Sequence[Attachment],
    created_at: int,
    received_at: datetime,
) -> dict[str, Any]:
    """A new part (`plan = new`), with the log it goes to (`log`, None: nothing to write)."""
    author = author or Author()
    stored_attachments = attachment_rows(attachments)
    return {
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "part_id": part_id,
        "notification_id": _cut(notification_id, parts_t.c.notification_id),
        "topic": (topic or "")[: width(parts_t.c.topic)],
        "part_type": (part_type or "")[: width(parts_t.c.part_type)],
        "author_type": _cut(author.type, parts_t.c.author_type),
        "author_id": _cut(author.id, parts_t.c.author_id),
        "author_name": _cut(author.name, parts_t.c.author_name),
        "author_email": _cut(author.email, parts_t.c.author_email),
        "body": body,
        "attachments": stored_attachments,
        "part_created_at": int(created_at),
        "received_at": received_at,
        "log": classify(
            topic, part_type, author.type, body, stored_attachments, from_ai=is_ai(author)
        ),
        "plan": "new",
    }
