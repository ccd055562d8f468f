"""Posting in the conversation: the private note after a link, the reply after a creation.

The iTop side of a screen has already happened when these are posted, so a failure here must
not undo or hide it: the canvas says the message is late, and a background job posts it later
(`post_later`). Requests from the preview page never reach Intercom: their messages are kept in
the service's `preview_outbox`, which the page shows.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Literal

from itop_intercom.errors import NotConfigured
from itop_intercom.inbox import background
from itop_intercom.inbox.context import ScreenContext
from itop_intercom.intercom.errors import IntercomError, may_have_been_applied
from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.inbox.messages")

MessageType = Literal["comment", "note"]


@dataclass(frozen=True)
class OutboxMessage:
    message_type: MessageType
    body: str
    admin_id: str


class PreviewOutbox:
    """The messages the app would have posted, per (workspace, conversation), newest last (one
    per service instance, `Services.preview_outbox`)."""

    def __init__(self, keep: int = 50) -> None:
        self._messages: dict[tuple[str, str], deque[OutboxMessage]] = defaultdict(
            lambda: deque(maxlen=keep)
        )

    def add(self, workspace_id: str, conversation_id: str, message: OutboxMessage) -> None:
        self._messages[(workspace_id, conversation_id)].append(message)

    def messages(self, workspace_id: str, conversation_id: str) -> list[OutboxMessage]:
        return list(self._messages.get((workspace_id, conversation_id), ()))

    def clear(self, workspace_id: str, conversation_id: str) -> None:
        self._messages.pop((workspace_id, conversation_id), None)


async def post(ctx: ScreenContext, message_type: MessageType, body: str, *, marker: str) -> bool:
    """Post now; when Intercom fails, schedule a background retry. True when posted now.

    `marker` is a string the body contains (the ticket's URL): a retry after an answer that
    may have been lost first looks for it in the conversation, so the message is not doubled.
    """
    admin_id = ctx.admin_id
    if admin_id is None:
        log.warning("no admin in the canvas request: message not posted")
        return False
    if ctx.preview:
        ctx.services.preview_outbox.add(
            ctx.workspace.id, ctx.conversation_id, OutboxMessage(message_type, body, admin_id)
        )
        return True
    maybe_posted = False
    try:
        client = ctx.services.intercom(ctx.workspace)
        await asyncio.wait_for(
            client.reply(
                ctx.conversation_id, admin_id=admin_id, body=body, message_type=message_type
            ),
            timeout=ctx.time_left(),
        )
        return True
    except TimeoutError:
        # The canvas cannot wait longer; the request may have reached Intercom.
        maybe_posted = True
        log.warning("posting in the conversation took too long", message_type=message_type)
    except NotConfigured:
        log.warning("no Intercom access token: message left for the background job")
    except IntercomError as exc:
        maybe_posted = may_have_been_applied(exc)
        log.warning(
            "posting in the conversation failed",
            error=type(exc).__name__,
            detail=str(exc),
            maybe_posted=maybe_posted,
        )
    await post_later(
        ctx, message_type, body, admin_id=admin_id, marker=marker, maybe_posted=maybe_posted
    )
    return False


async def post_later(
    ctx: ScreenContext,
    message_type: MessageType,
    body: str,
    *,
    admin_id: str,
    marker: str,
    maybe_posted: bool,
) -> None:
    await background.enqueue_message(
        ctx.services,
        workspace_id=ctx.workspace.id,
        conversation_id=ctx.conversation_id,
        admin_id=admin_id,
        message_type=message_type,
        body=body,
        marker=marker,
        maybe_posted=maybe_posted,
    )
