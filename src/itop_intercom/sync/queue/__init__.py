"""The delivery queue in the database: planning, leasing conversations, recording outcomes.

Unit of work: a *delivery* = (part, ticket). Its states: `pending` → `done`, or `dead` (given
up, with the reason; `replay` makes it pending again).

Concurrency rules, so that several `serve`/`worker` processes can share one PostgreSQL:
- A conversation is worked on by the holder of its lease only (`sync_conversations`). Claiming
  is a compare-and-set on the lease (`lease_until < now`), preceded on PostgreSQL by
  `FOR UPDATE SKIP LOCKED` so that workers do not queue up behind each other's row locks.
- Before every iTop write the worker *fences*: it renews its lease in the same transaction that
  records "step started"; a worker that lost its lease (it stalled longer than the lease and
  someone took over) finds out there and writes nothing.
- `sync_conversations.due_at` is always recomputed from the deliveries, under the row's lock
  (`refresh_due`), by whoever changed them: a planner adding deliveries and a worker releasing
  the conversation cannot overwrite each other's view (the second waits for the first's commit,
  then reads it).
- Lock order is the same in every transaction (parts → deliveries → sync_conversations, and
  conversations sorted by key), so transactions do not deadlock each other.

Modules: `model` (deliveries, claims, states), `planning` (writing deliveries, `due_at`),
`leases` (claiming and releasing conversations), `outcomes` (what happened to a delivery, and
the replay of dead ones). What the `events` commands read is in `sync.events`.
"""

from __future__ import annotations

from itop_intercom.sync.queue.leases import (
    claim_conversations,
    earliest_unplanned,
    load_pending,
    release,
    renew_leases,
)
from itop_intercom.sync.queue.model import (
    DEAD,
    DONE,
    PENDING,
    STATES,
    Claim,
    ConversationKey,
    Delivery,
    PartRef,
)
from itop_intercom.sync.queue.outcomes import (
    ReplayResult,
    mark_dead,
    mark_done,
    replay,
    save_progress,
    schedule_retry,
    start_step,
    wake_retries,
)
from itop_intercom.sync.queue.planning import add_deliveries, new_delivery_rows, refresh_due

__all__ = (
    "DEAD",
    "DONE",
    "PENDING",
    "STATES",
    "Claim",
    "ConversationKey",
    "Delivery",
    "PartRef",
    "ReplayResult",
    "add_deliveries",
    "claim_conversations",
    "earliest_unplanned",
    "load_pending",
    "mark_dead",
    "mark_done",
    "new_delivery_rows",
    "refresh_due",
    "release",
    "renew_leases",
    "replay",
    "save_progress",
    "schedule_retry",
    "start_step",
    "wake_retries",
)
