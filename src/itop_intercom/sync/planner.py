"""Planning: turning stored parts into deliveries for the tickets that have sync on.

The webhook must answer before any call to iTop, and where links live in iTop (the extension's
`intercom_*` fields) knowing the linked tickets *is* a call to iTop. So the intake only stores
parts, and the planner, in the worker, reads the links as soon as the part is stored (normally
well within the settle delay) and decides once: deliveries for every ticket linked with sync on
at that moment, or `unlinked` (kept, never applied later by surprise: a later link or resume
does not pull old parts in; copying a conversation's history into a new ticket is an explicit
action, see `history`).

Look-ups are batched (`LinkStore.synced_tickets`): with links in iTop, one query covers up to a
hundred conversations, so planning costs a handful of calls per second of traffic, not one per
part; with the local link store the look-up is a database query.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from itop_intercom.logs import get_logger
from itop_intercom.store.tables import conversation_parts as parts_t
from itop_intercom.sync import queue
from itop_intercom.sync.dbutil import now
from itop_intercom.sync.entries import part_seq
from itop_intercom.sync.queue import ConversationKey, PartRef

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.planner")


async def plan_new_parts(services: Services, *, limit: int = 2000) -> int:
    """Plan the parts stored since the last round; return how many parts were decided."""
    query = (
        sa.select(
            parts_t.c.id,
            parts_t.c.workspace_id,
            parts_t.c.conversation_id,
            parts_t.c.part_id,
            parts_t.c.part_created_at,
            parts_t.c.received_at,
            parts_t.c.log,
        )
        .where(parts_t.c.plan == "new")
        .order_by(parts_t.c.id)
        .limit(limit)
    )
    async with services.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    if not rows:
        return 0
    groups: dict[ConversationKey, list[Any]] = defaultdict(list)
    for r in rows:
        if r.log is not None:
            groups[(r.workspace_id, r.conversation_id)].append(r)
    store = await services.link_store()
    links = await store.synced_tickets(list(groups)) if groups else {}
    for (workspace_id, conversation_id), ticket_ids in links.items():
        services.home_cache.seen_synced(workspace_id, conversation_id, ticket_ids)
    settle = services.settings.sync.settle_seconds
    ticket_class = services.tickets.class_
    ignored = [r.id for r in rows if r.log is None]
    unlinked = [r.id for key, group in groups.items() if not links.get(key) for r in group]
    linked = [r for key, group in groups.items() if links.get(key) for r in group]
    # One transaction for the whole round: a few statements whatever its size.
    async with services.db.write_transaction() as conn:
        await _set_plan(conn, ignored, "ignored")
        await _set_plan(conn, unlinked, "unlinked")
        decided = await _set_plan(conn, [r.id for r in linked], "planned")
        delivery_rows = []
        planned_keys = set()
        for r in linked:
            if r.id not in decided:
                continue  # another planner decided it first
            key = (r.workspace_id, r.conversation_id)
            planned_keys.add(key)
            ref = PartRef(
                r.id,
                r.workspace_id,
                r.conversation_id,
                r.part_id,
                int(r.part_created_at),
                part_seq(r.part_id),
            )
            delivery_rows += queue.new_delivery_rows(
                [ref],
                [(ticket_class, t) for t in links[key]],
                origin="webhook",
                due_at=_epoch(r.received_at) + settle,
                created_at=now(),
            )
        await queue.add_deliveries(conn, delivery_rows)
        await queue.refresh_due(conn, planned_keys)
    if unlinked:
        log.info("parts kept, no ticket with sync on", parts=len(unlinked))
    return len(rows)


async def _set_plan(conn: AsyncConnection, ids: list[int], plan: str) -> set[int]:
    """Decide parts still undecided; returns the ids this transaction decided (another planner
    may have been faster: those are left alone)."""
    decided: set[int] = set()
    for start in range(0, len(ids), 500):  # bounded statements (SQLite: 32766 variables)
        chunk = ids[start : start + 500]
        result = await conn.execute(
            sa.update(parts_t)
            .where(parts_t.c.id.in_(chunk), parts_t.c.plan == "new")
            .values(plan=plan, planned_at=datetime.now(UTC))
            .returning(parts_t.c.id)
        )
        decided.update(int(i) for i in result.scalars().all())
    return decided


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
