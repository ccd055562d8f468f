"""`conversation_part.redacted`: a message deleted in Intercom is not copied to iTop afterwards.

Teammates redact a message when it should never have been written (a card number, personal
data). When the notification arrives, the part's text and files are removed from our database
and its `log` is cleared: a part not planned yet is then ignored by the planner, and a delivery
still pending is finished by the worker without writing (it reads `log` when it runs). When the
redaction overtakes the message itself (Intercom does not promise an order), the part is stored
already emptied, so the message arriving later is a duplicate and never written.

A part already copied to a ticket cannot be taken back (iTop's case logs only grow): each such
ticket is logged as a warning, for someone to edit the entry in iTop by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from itop_intercom.logs import get_logger
from itop_intercom.settings.model import ResolvedWorkspace
from itop_intercom.store.database import Database
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.store.tables import deliveries as deliveries_t

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.redaction")

REDACTED_TOPIC = "conversation_part.redacted"


async def accept_redaction(
    services: Services, workspace: ResolvedWorkspace, rows: list[dict[str, Any]]
) -> tuple[int, dict[str, Any], str]:
    """Forget the content of the notification's parts (`rows`, as the intake builds them);
    return (HTTP status, body, outcome)."""
    conversation_id = rows[0]["conversation_id"] if rows else None
    body: dict[str, Any] = {"status": "redacted", "conversation": conversation_id}
    if not rows:
        return 200, {**body, "parts": 0}, "empty"
    for row in rows:
        row.update(body=None, attachments=[], log=None)
    part_ids = [str(row["part_id"]) for row in rows]
    try:
        await services.part_writer.store(rows)
        copied = await forget(services.db, workspace.id, str(conversation_id), part_ids)
    except (SQLAlchemyError, OSError) as exc:
        log.error("cannot record the redaction", error=type(exc).__name__)
        return 503, {"status": "unavailable", "conversation": conversation_id}, "store_failed"
    for part_id, ticket in copied:
        log.warning(
            "a message redacted in Intercom was already copied to iTop: edit the entry by hand",
            conversation=conversation_id,
            part=part_id,
            ticket=ticket,
        )
    return 200, {**body, "parts": len(rows), "already_copied": len(copied)}, "redacted"


async def forget(
    db: Database, workspace_id: str, conversation_id: str, part_ids: list[str]
) -> list[tuple[str, str]]:
    """Empty the stored parts; return (part id, "Class::id") of the tickets that have them."""
    p, d = parts_t, deliveries_t
    mine = sa.and_(
        p.c.workspace_id == workspace_id,
        p.c.conversation_id == conversation_id,
        p.c.part_id.in_(part_ids),
    )
    async with db.write_transaction() as conn:
        # Read before emptying: a part already emptied (the same redaction sent twice) has no
        # `log` any more, so its tickets are reported once.
        written = (
            await conn.execute(
                sa.select(p.c.part_id, d.c.ticket_class, d.c.ticket_id)
                .join(d, d.c.part_row_id == p.c.id)
                .where(mine, p.c.log.is_not(None), d.c.state == "done")
                .order_by(d.c.id)
            )
        ).all()
        await conn.execute(sa.update(p).where(mine).values(body=None, attachments=[], log=None))
    return [(str(r.part_id), f"{r.ticket_class}::{r.ticket_id}") for r in written]
