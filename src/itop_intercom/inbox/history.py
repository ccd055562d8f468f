"""Copying the conversation so far into a ticket just created from it.

The copy goes through the sync's exactly-once queue (`sync.history.plan_history`): the screen
only stores the parts and plans one delivery per part for the ticket (database writes, no iTop
call), and the worker writes the entries in conversation order, each on behalf of the right iTop
user with its original date, attachments included, with the sync's retries and dead letters.

The canvas request carries the conversation; when it does not carry every part (Intercom's
`total_count` says more, or no parts at all), the whole conversation is read with
`GET /conversations/{id}`. When that read fails, what the request carried is planned at once
and a background job (`inbox.copy_history`) reads the conversation again later and plans the
rest: planning the same part twice for a ticket is harmless.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from itop_intercom.errors import NotConfigured
from itop_intercom.inbox.context import ScreenContext
from itop_intercom.intercom.errors import IntercomError, IntercomNotFound
from itop_intercom.intercom.payloads import Conversation
from itop_intercom.itop.client import ItopObject
from itop_intercom.logs import get_logger
from itop_intercom.sync import jobs
from itop_intercom.sync.history import plan_history

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.inbox.history")

COPY_HISTORY_JOB = "inbox.copy_history"


@dataclass(frozen=True)
class HistoryResult:
    parts: int
    """How many entries are planned for the ticket (opening message included)."""
    failed: bool = False
    """Not everything could be planned now; a background job finishes the copy."""


def is_complete(conversation: Conversation) -> bool:
    """Whether the payload carries every part of the conversation."""
    listed = conversation.conversation_parts
    if listed is None:
        return False
    return listed.total_count is None or listed.total_count <= len(listed.conversation_parts)


async def _full_conversation(ctx: ScreenContext) -> Conversation | None:
    """The whole conversation, or None when Intercom could not give it in time."""
    conversation = ctx.request.conversation
    if conversation is not None and (ctx.preview or is_complete(conversation)):
        return conversation
    try:
        client = ctx.services.intercom(ctx.workspace)
        raw = await asyncio.wait_for(
            client.get_conversation(ctx.conversation_id), timeout=ctx.time_left()
        )
        return Conversation.model_validate(raw)
    except (IntercomError, NotConfigured, TimeoutError) as exc:
        log.warning("could not read the whole conversation", error=type(exc).__name__)
        return None


async def copy(ctx: ScreenContext, ticket: ItopObject) -> HistoryResult:
    """Plan the copy of the conversation into `ticket`; never raises."""
    conversation = await _full_conversation(ctx)
    complete = conversation is not None
    snapshot = conversation or ctx.request.conversation
    planned = 0
    try:
        if snapshot is not None:
            result = await plan_history(ctx.services, ctx.workspace.id, snapshot, ticket.id)
            planned = result.entries_planned
    except Exception as exc:
        log.error("could not plan the history copy", error=type(exc).__name__, detail=str(exc))
        complete = False
    if complete:
        return HistoryResult(planned)
    try:
        await jobs.enqueue(
            ctx.services.db,
            COPY_HISTORY_JOB,
            {
                "workspace_id": ctx.workspace.id,
                "conversation_id": ctx.conversation_id,
                "ticket_id": ticket.id,
            },
        )
    except Exception as exc:
        log.error("could not schedule the history copy", error=type(exc).__name__)
    return HistoryResult(planned, failed=True)


async def copy_later(services: Services, payload: dict[str, Any]) -> None:
    workspace = services.settings.workspace(str(payload["workspace_id"]))
    if workspace is None:
        raise jobs.PermanentJobError("the workspace is no longer configured")
    try:
        raw = await services.intercom(workspace).get_conversation(str(payload["conversation_id"]))
    except IntercomNotFound:
        raise jobs.PermanentJobError("the conversation no longer exists in Intercom") from None
    await plan_history(services, workspace.id, raw, int(payload["ticket_id"]))
