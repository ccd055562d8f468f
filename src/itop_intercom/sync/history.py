"""Copying a conversation's history into a ticket, through the same exactly-once queue.

Called by the Inbox's "create ticket" screen right after iTop created the ticket. It only writes
to our database (no iTop call: the screen must answer fast); the worker then writes the entries
in conversation order, with the same retries, dead letters and crash safety as webhook parts.

What is copied, as the PHP extension does: the opening message (`conversation.source`) and every
part, bot and AI-agent parts skipped; `comment` and `assignment` to the public log, `note` and
`note_and_reopen` to the private log; other part types (open, close, assignment without text,
…) are not entries. Parts already stored by the webhook are not stored twice, and every stored
message part of the conversation is included too, even one the given snapshot does not have yet
(it arrived by webhook between the screen's read of the conversation and the link). Calling it
twice for the same ticket is harmless: a (part, ticket) pair is delivered once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError

from itop_intercom.intercom.payloads import Attachment, Author, Conversation
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.sync import queue
from itop_intercom.sync.dbutil import insert_ignore, now
from itop_intercom.sync.entries import HISTORY_TOPIC, SOURCE_PART_TYPE, part_seq
from itop_intercom.sync.part_rows import MAX_ID, part_row
from itop_intercom.sync.queue import PartRef

if TYPE_CHECKING:
    from itop_intercom.runtime import Services


@dataclass(frozen=True)
class HistoryPlan:
    """What `plan_history` did: parts seen in the snapshot, parts newly stored, and entries
    planned for the ticket (including parts stored earlier by the webhook)."""

    parts_seen: int
    parts_stored: int
    entries_planned: int


async def plan_history(
    services: Services,
    workspace_id: str,
    conversation: Conversation | Mapping[str, Any],
    ticket_id: int,
) -> HistoryPlan:
    """Plan the copy of `conversation` (as Intercom's REST API or a canvas request gives it:
    `source` + `conversation_parts`) into the case logs of ticket `ticket_id`.

    Raises `ValueError` when the conversation cannot be read (no id).
    """
    if not isinstance(conversation, Conversation):
        try:
            conversation = Conversation.model_validate(dict(conversation))
        except ValidationError as exc:
            raise ValueError(f"not a conversation: {exc.error_count()} error(s)") from None
    conversation_id = conversation.id
    if not conversation_id or len(conversation_id) > MAX_ID:
        raise ValueError("conversation id missing or too long")
    received = datetime.now(UTC)
    rows = _rows(workspace_id, conversation, received)
    ticket_class = services.tickets.class_
    key = (workspace_id, conversation_id)
    t = now()
    async with services.db.write_transaction() as conn:
        stored = 0
        if rows:
            result = await conn.execute(insert_ignore(conn, parts_t).returning(parts_t.c.id), rows)
            stored = len(result.all())
        candidates = (
            await conn.execute(
                sa.select(
                    parts_t.c.id,
                    parts_t.c.part_id,
                    parts_t.c.part_created_at,
                    parts_t.c.plan,
                )
                .where(
                    parts_t.c.workspace_id == workspace_id,
                    parts_t.c.conversation_id == conversation_id,
                    parts_t.c.log.is_not(None),
                )
                .order_by(parts_t.c.id)
            )
        ).all()
        # Parts first, then deliveries, then the conversation row: the lock order of `queue`.
        kept = [c.id for c in candidates if c.plan == "unlinked"]
        for start in range(0, len(kept), 500):
            await conn.execute(
                sa.update(parts_t)
                .where(parts_t.c.id.in_(kept[start : start + 500]), parts_t.c.plan == "unlinked")
                .values(plan="planned", planned_at=received)
            )
        refs = [
            PartRef(
                c.id,
                workspace_id,
                conversation_id,
                c.part_id,
                int(c.part_created_at),
                part_seq(c.part_id),
            )
            for c in candidates
        ]
        delivery_rows = queue.new_delivery_rows(
            refs, [(ticket_class, ticket_id)], origin="history", due_at=t, created_at=t
        )
        await queue.add_deliveries(conn, delivery_rows)
        await queue.refresh_due(conn, [key])
    services.db.wakeups.notify()
    return HistoryPlan(
        parts_seen=len(rows), parts_stored=stored, entries_planned=len(delivery_rows)
    )


def _rows(
    workspace_id: str, conversation: Conversation, received: datetime
) -> list[dict[str, Any]]:
    rows = []
    created = conversation.created_at or int(received.timestamp())
    source = conversation.source
    if source is not None and source.id:
        rows.append(
            _history_row(
                workspace_id,
                conversation.id,
                f"source-{source.id}"[:MAX_ID],
                SOURCE_PART_TYPE,
                source.author,
                source.body,
                source.attachments,
                created,
                received,
            )
        )
    for part in conversation.parts:
        if not part.id or len(part.id) > MAX_ID:
            continue
        rows.append(
            _history_row(
                workspace_id,
                conversation.id,
                part.id,
                part.part_type or "",
                part.author,
                part.body,
                part.attachments,
                part.created_at or created,
                received,
            )
        )
    return rows


def _history_row(
    workspace_id: str,
    conversation_id: str,
    part_id: str,
    part_type: str,
    author: Author | None,
    body: str | None,
    attachments: list[Attachment],
    created_at: int,
    received: datetime,
) -> dict[str, Any]:
    row = part_row(
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        part_id=part_id,
        topic=HISTORY_TOPIC,
        notification_id=None,
        part_type=part_type,
        author=author,
        body=body,
        attachments=attachments,
        created_at=created_at,
        received_at=received,
    )
    # Decided here: planned for this ticket (or nothing to write). A later webhook for the same
    # part turns it into a webhook part (see `groupcommit`).
    row["plan"] = "planned" if row["log"] else "ignored"
    return row
