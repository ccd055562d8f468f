"""The service's own tables.

Kept in SQLAlchemy Core so that one schema serves SQLite (the embedded default) and PostgreSQL
(several instances). Times are stored as timezone-aware UTC datetimes; Intercom's own times
(`created_at` of a part) stay unix seconds because ordering uses them as Intercom gives them.
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

#: Every conversation part received by webhook, stored before the webhook is acknowledged.
#: The unique key is what makes Intercom's retries and overlapping notifications harmless.
conversation_parts = sa.Table(
    "conversation_parts",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
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
    sa.Column("state", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("workspace_id", "conversation_id", "part_id", name="uq_parts_identity"),
    sa.Index(
        "ix_parts_state_conversation", "state", "workspace_id", "conversation_id", "part_created_at"
    ),
)

#: One row per (part, ticket) written to iTop: the bookkeeping of "exactly once".
part_deliveries = sa.Table(
    "part_deliveries",
    metadata,
    sa.Column(
        "part_row_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("conversation_parts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("ticket_class", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.Integer, primary_key=True),
    sa.Column("written_at", UTCDateTime, nullable=False),
)

#: Background work that must survive a restart: history copy after a ticket was created,
#: replies to post in Intercom, … (kind + JSON payload, retried with backoff).
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Index("ix_jobs_state_next", "state", "next_attempt_at"),
)
