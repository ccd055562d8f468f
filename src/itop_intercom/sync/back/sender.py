"""Posting the outbox to Intercom, conversation by conversation, in iTop's order.

Per row: (after an earlier attempt that may have reached Intercom) look for the row's marker in
the conversation's parts and stop there if it is found; otherwise record `started_at`, post,
and record the outcome. Failures:
- 429: retried when Intercom's window resets (`X-RateLimit-Reset`), not earlier;
- 5xx, timeouts, connection failures, a refused or missing access token: retried with backoff
  until `sync.max_age_hours`, then a dead letter (`events list --outbound`,
  `events replay --outbound`);
- the conversation no longer exists, or Intercom refuses the message itself: a dead letter at
  once. A dead row does not hold back the conversation's later rows.
A row that must wait holds back the rows after it in the same conversation, so the order seen
in Intercom is iTop's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from itop_intercom.intercom.client import IntercomClient
from itop_intercom.intercom.errors import (
    IntercomAuthError,
    IntercomError,
    IntercomForbidden,
    IntercomNotFound,
    IntercomRateLimited,
    IntercomUnavailable,
)
from itop_intercom.logs import get_logger
from itop_intercom.runtime import NotConfigured, Services
from itop_intercom.sync.back import outbox, render
from itop_intercom.sync.back.outbox import OutboxRow
from itop_intercom.sync.back.poller import state_of
from itop_intercom.sync.dbutil import now
from itop_intercom.sync.failures import backoff, classify

log = get_logger("itop_intercom.sync.back.sender")

Outcome = Literal["done", "recovered", "retry", "dead"]


class LeaseLost(Exception):
    """Another sender took the conversation over (this one was too slow): stop at once."""


@dataclass(frozen=True)
class _Wait:
    due: float
    reason: str


async def process_conversation(
    services: Services, owner: str, workspace_id: str, conversation_id: str
) -> None:
    db = services.db
    try:
        for row in await outbox.pending(db, workspace_id, conversation_id):
            if row.due_at > now():
                break
            outcome = await _send(services, owner, row)
            services.metrics.backsync_posts.labels(row.kind, outcome).inc()
            if outcome == "retry":
                break
            if outcome in ("done", "recovered"):
                services.metrics.backsync_latency.observe(max(0.0, time.time() - row.changed_at))
    except LeaseLost:
        log.warning("lost the lease of a conversation; stopping", conversation=conversation_id)
        return
    finally:
        try:
            await outbox.release(db, workspace_id, conversation_id, owner)
        except Exception as exc:
            log.warning("releasing a conversation failed", reason=classify(exc).reason)


async def _send(services: Services, owner: str, row: OutboxRow) -> Outcome:
    db = services.db
    try:
        recovered = await _post(services, owner, row)
    except LeaseLost:
        raise
    except Exception as exc:
        wait = _failure(services, row, exc)
        if wait is None:
            reason = _reason(exc)
            await outbox.finish(db, row.id, "dead", reason)
            log.warning(
                "post to Intercom given up (dead letter)",
                outbox=row.id,
                conversation=row.conversation_id,
                kind=row.kind,
                reason=reason,
            )
            return "dead"
        await outbox.retry(db, row.id, wait.due, wait.reason)
        log.info(
            "post to Intercom will be retried",
            outbox=row.id,
            conversation=row.conversation_id,
            reason=wait.reason,
        )
        return "retry"
    await outbox.finish(db, row.id, "done")
    return "recovered" if recovered else "done"


async def _post(services: Services, owner: str, row: OutboxRow) -> bool:
    """Post one row; True when it had been posted already (found by its marker)."""
    settings = services.settings
    workspace = settings.workspace(row.workspace_id)
    if workspace is None:
        raise NotConfigured(f"workspace {row.workspace_id} is not configured")
    client = services.intercom(workspace)
    options = settings.backsync.for_workspace(row.workspace_id)
    state = state_of(services)
    message_type = render.MESSAGE_TYPES.get(row.kind)
    if message_type is None:
        raise _Unusable(f"unknown kind of post {row.kind!r}")
    poster = await state.admins.poster(
        row.workspace_id,
        client,
        str(row.payload.get("author_email") or ""),
        options.default_admin_id,
    )
    if message_type in ("close", "open"):
        if not await outbox.mark_started(services.db, row, owner):
            raise LeaseLost()
        await client.set_state(
            row.conversation_id,
            admin_id=poster.admin_id,
            state="close" if message_type == "close" else "open",
        )
        return False
    mark = render.marker(row.op_id, row.kind)
    if row.started_at is not None and await _already_posted(client, row.conversation_id, mark):
        return True
    body = render.final_body(
        row.payload,
        row.op_id,
        row.kind,
        attributed=poster.attributed,
        language=str(row.payload.get("language") or "en"),
    )
    if not await outbox.mark_started(services.db, row, owner):
        raise LeaseLost()
    await client.reply(
        row.conversation_id,
        admin_id=poster.admin_id,
        body=body,
        message_type="comment" if message_type == "comment" else "note",
    )
    return False


async def _already_posted(client: IntercomClient, conversation_id: str, mark: str) -> bool:
    """Whether a part of the conversation (its last 500) carries `mark`."""
    conversation = await client.get_conversation(conversation_id)
    parts = (conversation.get("conversation_parts") or {}).get("conversation_parts") or []
    return any(isinstance(p, dict) and mark in str(p.get("body") or "") for p in parts)


class _Unusable(Exception):
    """The row itself cannot be posted (never will)."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, IntercomError):
        return f"Intercom: {exc.message}"
    return classify(exc).reason


def _failure(services: Services, row: OutboxRow, exc: Exception) -> _Wait | None:
    """When to try again, or None for a dead letter."""
    sync = services.settings.sync
    reason = _reason(exc)
    if isinstance(exc, _Unusable | IntercomNotFound):
        return None
    if isinstance(exc, IntercomError) and not isinstance(
        exc, IntercomRateLimited | IntercomUnavailable | IntercomAuthError | IntercomForbidden
    ):
        return None  # Intercom refused the message itself (400, 422): it will not change
    if not isinstance(exc, IntercomError) and not classify(exc).transient:
        return None
    if now() - row.age_from > sync.max_age_hours * 3600:
        return None
    if isinstance(exc, IntercomRateLimited):
        return _Wait(now() + exc.retry_after + 0.1, reason)
    delay = backoff(max(row.attempts + 1, 1), sync.retry_base_seconds, sync.retry_max_seconds)
    return _Wait(now() + delay, reason)
