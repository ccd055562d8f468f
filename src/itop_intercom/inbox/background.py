"""What the Inbox leaves to the background when a screen could not finish it in time.

Uses the sync's durable job runner (`sync.jobs`): the jobs survive restarts, are retried with
backoff, and end up dead (listed by `events`) when they keep failing. Handlers check before
acting, because a job may run again after a worker died in the middle of it:

- `inbox.post_message`: a note or reply that Intercom did not accept in time. The conversation
  is read first; when a part already contains the message's marker (the ticket's URL, which
  every such message carries), an earlier attempt did reach Intercom and nothing is posted.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Literal

from itop_intercom.intercom.errors import IntercomNotFound
from itop_intercom.intercom.payloads import Conversation
from itop_intercom.logs import get_logger
from itop_intercom.sync import jobs

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.inbox.background")

POST_MESSAGE_JOB = "inbox.post_message"


async def enqueue_message(
    services: Services,
    *,
    workspace_id: str,
    conversation_id: str,
    admin_id: str,
    message_type: str,
    body: str,
    marker: str,
    maybe_posted: bool,
) -> int:
    payload = {
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "admin_id": admin_id,
        "message_type": message_type,
        "body": body,
        "marker": marker,
        "maybe_posted": maybe_posted,
    }
    return await jobs.enqueue(services.db, POST_MESSAGE_JOB, payload)


def contains_marker(conversation: Conversation, marker: str) -> bool:
    escaped = html.escape(marker)
    bodies = [part.body or "" for part in conversation.parts]
    return any(marker in body or escaped in body for body in bodies)


async def post_message(services: Services, payload: dict[str, Any]) -> None:
    workspace = services.settings.workspace(str(payload["workspace_id"]))
    if workspace is None:
        raise jobs.PermanentJobError("the workspace is no longer configured")
    conversation_id = str(payload["conversation_id"])
    client = services.intercom(workspace)
    try:
        current = Conversation.model_validate(await client.get_conversation(conversation_id))
        if contains_marker(current, str(payload["marker"])):
            log.info("message already in the conversation", conversation=conversation_id)
            return
        message_type: Literal["comment", "note"] = (
            "note" if payload["message_type"] == "note" else "comment"
        )
        await client.reply(
            conversation_id,
            admin_id=str(payload["admin_id"]),
            body=str(payload["body"]),
            message_type=message_type,
        )
    except IntercomNotFound:
        raise jobs.PermanentJobError("the conversation no longer exists in Intercom") from None
    log.info("message posted by the background job", conversation=conversation_id)
