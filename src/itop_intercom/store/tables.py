"""The service's own tables.

Kept in SQLAlchemy Core so that one schema serves SQLite (the embedded default) and PostgreSQL
(several instances). Times shown to people are timezone-aware UTC datetimes; scheduling times
of the queues (due, lease, age) are epoch seconds (`EpochSeconds`, see there); Intercom's own
times (`created_at` of a part) stay unix seconds because ordering uses them as Intercom gives them.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UTCDateTime = sa.DateTime(timezone=True)

#: Links between a conversation and tickets, when the ticket class has no `intercom_*` fields
#: (an unmodified iTop). A ticket is linked to at most one conversation.
ticket_links = sa.Table(
    "ticket_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("ticket_class", sa.String(64), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=False),
    sa.Column("sync_enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("linked_at", UTCDateTime, nullable=False),
    sa.Column("linked_by", sa.String(255), nullable=True),
    sa.UniqueConstraint("ticket_class", "ticket_id", name="uq_ticket_links_ticket"),
    sa.Index("ix_ticket_links_conversation", "workspace_id", "conversation_id"),
)

#: The iTop person an agent chose for a conversation when several matched the contact's email.
conversation_people = sa.Table(
    "conversation_people",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("person_class", sa.String(64), nullable=False),
    sa.Column("person_id", sa.Integer, nullable=False),
    sa.Column("chosen_at", UTCDateTime, nullable=False),
    sa.Column("chosen_by", sa.String(255), nullable=True),
)

#: Epoch seconds (UTC) as a float. Used for every *scheduling* time of the queues: comparing and
#: adding seconds to them is the same plain arithmetic on SQLite and PostgreSQL (no timezone or
#: string-format pitfalls), and `due <= now` is an index range scan on both.
EpochSeconds = sa.Float(precision=53)

_RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

#: Every conversation part received by webhook (or copied from a conversation's history), stored
#: before the webhook is acknowledged. The unique key is what makes Intercom's retries and
#: overlapping notifications harmless. `plan` says what the planner decided: `new` (not yet
#: looked at), `planned` (deliveries exist), `unlinked` (no ticket had sync on: kept, never
#: applied later by surprise), `ignored` (nothing to write: bot part, empty body, event).
conversation_parts = sa.Table(
    "conversation_parts",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("part_id", sa.String(64), nullable=False),
    sa.Column("notification_id", sa.String(128), nullable=True),
    sa.Column("topic", sa.String(128), nullable=False),
    sa.Column("part_type", sa.String(64), nullable=False),
    sa.Column("author_type", sa.String(32), nullable=True),
    sa.Column("author_id", sa.String(64), nullable=True),
    sa.Column("author_name", sa.String(255), nullable=True),
    sa.Column("author_email", sa.String(255), nullable=True),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("attachments", sa.JSON, nullable=False, default=list),
    sa.Column("part_created_at", sa.BigInteger, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("log", sa.String(16), nullable=True),
    sa.Column("plan", sa.String(16), nullable=False, server_default="new"),
    sa.Column("planned_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("workspace_id", "conversation_id", "part_id", name="uq_parts_identity"),
    sa.Index("ix_parts_plan", "plan", "id"),
    # Retention: the parts old enough to go are a range of this index.
    sa.Index("ix_parts_received", "received_at"),
)

#: One row per (part, ticket): the unit of work of the sync, and the bookkeeping of "exactly
#: once". The conversation and the part's order keys are copied here so that a worker can load
#: and order one conversation's queue without a join. `started_at`/`step` record an iTop write
#: that was sent but whose outcome was not recorded (crash, timeout): the next attempt checks
#: iTop before writing again. `progress` keeps per-attachment results. `waiting_outage`: the
#: last attempt failed because iTop was down; such deliveries are retried as soon as it is up.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column(
        "part_row_id",
        _RowId,
        sa.ForeignKey("conversation_parts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("workspace_id", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("part_created_at", sa.BigInteger, nullable=False),
    sa.Column("part_seq", sa.BigInteger, nullable=False),
    sa.Column("ticket_class", sa.String(64), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("due_at", EpochSeconds, nullable=False),
    sa.Column("age_from", EpochSeconds, nullable=False),
    sa.Column("started_at", EpochSeconds, nullable=True),
    sa.Column("step", sa.String(32), nullable=True),
    sa.Column("progress", sa.JSON, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("waiting_outage", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", EpochSeconds, nullable=False),
    sa.Column("finished_at", EpochSeconds, nullable=True),
    sa.UniqueConstraint("part_row_id", "ticket_class", "ticket_id", name="uq_deliveries_target"),
    sa.Index("ix_deliveries_conversation", "workspace_id", "conversation_id", "state"),
    sa.Index("ix_deliveries_state_due", "state", "due_at"),
    # Retention: the finished deliveries past their time are a range of this index.
    sa.Index("ix_deliveries_state_finished", "state", "finished_at"),
)

#: One row per conversation that has (or had) deliveries: the lock and the schedule of its
#: queue. A worker leases a conversation (compare-and-set on `lease_until`, with
#: `FOR UPDATE SKIP LOCKED` on PostgreSQL), so that one conversation is applied by one worker at
#: a time, in order, while other conversations go on elsewhere. `due_at` is the due time of the
#: conversation's first pending delivery (NULL: nothing to do).
sync_conversations = sa.Table(
    "sync_conversations",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("due_at", EpochSeconds, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", EpochSeconds, nullable=True),
    sa.Index("ix_sync_conversations_due", "due_at"),
)

#: Background work that must survive a restart (kind + JSON payload, retried with backoff,
#: dead after a maximum age). Leased like conversations, so that one job runs in one worker.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("due_at", EpochSeconds, nullable=False, server_default="0"),
    sa.Column("age_from", EpochSeconds, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", EpochSeconds, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Index("ix_jobs_state_due", "state", "due_at"),
    sa.Index("ix_jobs_state_finished", "state", "finished_at"),
)

#: iTop → Intercom: the history cursor (one row, `name` "history"). `op_id` is the highest change
#: op id read; before the first op is seen, `since` (an iTop-local date) is where reading starts.
#: The poll lease lets one instance poll iTop at a time.
backsync_cursor = sa.Table(
    "backsync_cursor",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("op_id", sa.BigInteger, nullable=True),
    sa.Column("since", sa.String(19), nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", EpochSeconds, nullable=True),
    sa.Column("polled_at", EpochSeconds, nullable=True),
)

#: iTop → Intercom: what the poller last knew of each link, so that entries written before a
#: link existed, or while its sync was off, are never posted: only ops after `since_op` go out.
backsync_links = sa.Table(
    "backsync_links",
    metadata,
    sa.Column("ticket_class", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.Integer, primary_key=True),
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("sync_on", sa.Boolean, nullable=False),
    sa.Column("since_op", sa.BigInteger, nullable=False),
)

#: iTop → Intercom: one row per (change op, conversation, kind of post), written in the same
#: transaction as the cursor advance. `started_at`: a post was sent but its outcome not recorded;
#: the next attempt first looks for the post's marker in the conversation.
backsync_outbox = sa.Table(
    "backsync_outbox",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("op_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("workspace_id", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("ticket_class", sa.String(64), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("changed_at", EpochSeconds, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", EpochSeconds, nullable=False),
    sa.Column("age_from", EpochSeconds, nullable=False),
    sa.Column("started_at", EpochSeconds, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", EpochSeconds, nullable=False),
    sa.Column("finished_at", EpochSeconds, nullable=True),
    sa.UniqueConstraint(
        "op_id", "kind", "workspace_id", "conversation_id", name="uq_backsync_outbox_post"
    ),
    sa.Index("ix_backsync_outbox_conversation", "workspace_id", "conversation_id", "state"),
    sa.Index("ix_backsync_outbox_state", "state", "changed_at"),
    sa.Index("ix_backsync_outbox_finished", "state", "finished_at"),
)

#: iTop → Intercom: the lease and schedule of each conversation's outbox (one sender at a time
#: per conversation, so that posts keep iTop's order).
backsync_conversations = sa.Table(
    "backsync_conversations",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("due_at", EpochSeconds, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", EpochSeconds, nullable=True),
    sa.Index("ix_backsync_conversations_due", "due_at"),
)

#: Nonces of the iTop module's signed requests, kept while their timestamp is acceptable, so that
#: a captured request cannot be replayed (on any instance sharing the database).
messenger_nonces = sa.Table(
    "messenger_nonces",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("expires_at", EpochSeconds, nullable=False),
    sa.Index("ix_messenger_nonces_expires", "expires_at"),
)
