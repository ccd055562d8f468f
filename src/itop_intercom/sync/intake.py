"""Webhook intake: store every part of a verified notification, durably, then acknowledge.

Nothing here calls iTop or Intercom: Intercom counts an answer slower than 5 s as failed (and
sends the notification again), and serves fast endpoints first. The notification's parts are
committed (group commit, `groupcommit`) and the answer is 200 as soon as they are durable; the
worker does the rest. Answers are chosen so that Intercom never retries or disables the
subscription for a condition a retry cannot fix:

- `ping` → 200; a topic we do not handle → 200 `unsupported` (ignored);
- no topic, or a handled topic with a malformed body → `MalformedNotification` (400, as the
  guard's other refusals: the body will not get better);
- the database unavailable → 503, so that Intercom's retry brings the notification back.

Parts are deduplicated by (workspace, conversation, part id): Intercom's retries, and the same
part in two notifications, are stored once. Every part of the notification is stored (the PHP
extension read only the first), including the ones that will not be written to iTop (bot
replies, empty events: `log` is NULL), so that what was received can always be inspected.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from itop_intercom.intercom.payloads import WebhookNotification
from itop_intercom.logs import get_logger
from itop_intercom.settings.model import ResolvedWorkspace
from itop_intercom.sync import events
from itop_intercom.sync.entries import PRIVATE_TOPICS, PUBLIC_TOPICS
from itop_intercom.sync.part_rows import MAX_ID, part_row

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.intake")


class MalformedNotification(Exception):
    """A notification whose shape is wrong (answered 400: Intercom's retry will not fix it)."""


HANDLED_TOPICS = PUBLIC_TOPICS | PRIVATE_TOPICS

#: Column sizes (store.tables): longer values are refused here rather than failing the batch.


async def accept(
    services: Services, workspace: ResolvedWorkspace, data: dict[str, Any]
) -> tuple[int, dict[str, Any], str]:
    """Return (HTTP status, body, outcome)."""
    topic = data.get("topic")
    if not isinstance(topic, str) or not topic:
        raise MalformedNotification("invalid notification: topic")
    if topic == "ping":
        return 200, {"status": "ok"}, "ping"
    if topic not in HANDLED_TOPICS:
        return 200, {"status": "unsupported", "topic": topic[:128]}, "unsupported"
    rows = part_rows(workspace.id, data, received_at=datetime.now(UTC))
    conversation_id = rows[0]["conversation_id"] if rows else _conversation_id(data)
    body: dict[str, Any] = {"status": "accepted", "conversation": conversation_id}
    if not rows:
        return 200, {**body, "parts": 0, "new": 0}, "empty"
    try:
        new = await services.part_writer.store(rows)
    except (SQLAlchemyError, OSError) as exc:
        log.error("cannot store the notification", error=type(exc).__name__)
        return 503, {"status": "unavailable", "conversation": conversation_id}, "store_failed"
    return 200, {**body, "parts": len(rows), "new": new}, "accepted" if new else "duplicate"


def part_rows(
    workspace_id: str, data: dict[str, Any], *, received_at: datetime
) -> list[dict[str, Any]]:
    """The rows to store for a notification of a handled topic; raises MalformedNotification."""
    try:
        notification = WebhookNotification.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise MalformedNotification(f"invalid notification: {', '.join(fields[:5])}") from None
    conversation = notification.conversation
    if conversation is None:
        raise MalformedNotification("invalid notification: data.item is not a conversation")
    if not conversation.id or len(conversation.id) > MAX_ID:
        raise MalformedNotification("invalid notification: data.item.id")
    fallback_time = notification.created_at or notification.first_sent_at or int(time.time())
    rows = []
    for part in conversation.parts:
        if not part.id or len(part.id) > MAX_ID:
            raise MalformedNotification("invalid notification: conversation part id")
        rows.append(
            part_row(
                workspace_id=workspace_id,
                conversation_id=conversation.id,
                part_id=part.id,
                topic=notification.topic,
                notification_id=notification.id,
                part_type=part.part_type,
                author=part.author,
                body=part.body,
                attachments=part.attachments,
                created_at=part.created_at or fallback_time,
                received_at=received_at,
            )
        )
    return rows


def _conversation_id(data: dict[str, Any]) -> str | None:
    item = (data.get("data") or {}).get("item") if isinstance(data.get("data"), dict) else None
    value = item.get("id") if isinstance(item, dict) else None
    return str(value)[:MAX_ID] if value is not None else None


async def refresh_gauges(services: Services) -> None:
    """Update the queue gauges before /metrics is rendered (database-wide figures)."""
    try:
        figures = await events.stats(services.db)
    except SQLAlchemyError:
        return
    metrics = services.metrics
    metrics.parts_pending.set(figures.pending)
    metrics.oldest_pending_age.set(figures.oldest_pending_seconds)
    metrics.parts_dead.set(figures.dead)
    metrics.jobs_pending.set(figures.jobs_pending)
    metrics.jobs_dead.set(figures.jobs_dead)
