"""sync queue: deliveries per (part, ticket), leased conversations, leased jobs

Revision ID: 0002
Revises: 0001

The first schema kept one state per conversation part. A part can go to several tickets, and
"exactly once" is a property of each (part, ticket) pair, so the state moves to `deliveries`;
`sync_conversations` carries the per-conversation lease and schedule; `jobs` gets a lease and
epoch-second scheduling like the deliveries. Nothing of the sync had shipped, so the old state
columns and the unused `part_deliveries` table are dropped rather than migrated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Epoch = sa.Float(precision=53)


def upgrade() -> None:
    op.drop_table("part_deliveries")

    with op.batch_alter_table("conversation_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_parts_state_conversation")
        batch_op.drop_column("state")
        batch_op.drop_column("attempts")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("finished_at")
        batch_op.add_column(sa.Column("log", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("plan", sa.String(length=16), nullable=False, server_default="new")
        )
        batch_op.add_column(sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_parts_plan", ["plan", "id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", _RowId, autoincrement=True, nullable=False),
        sa.Column("part_row_id", _RowId, nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("part_created_at", sa.BigInteger(), nullable=False),
        sa.Column("part_seq", sa.BigInteger(), nullable=False),
        sa.Column("ticket_class", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", _Epoch, nullable=False),
        sa.Column("age_from", _Epoch, nullable=False),
        sa.Column("started_at", _Epoch, nullable=True),
        sa.Column("step", sa.String(length=32), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("waiting_outage", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", _Epoch, nullable=False),
        sa.Column("finished_at", _Epoch, nullable=True),
        sa.ForeignKeyConstraint(
            ["part_row_id"],
            ["conversation_parts.id"],
            name=op.f("fk_deliveries_part_row_id_conversation_parts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "part_row_id", "ticket_class", "ticket_id", name="uq_deliveries_target"
        ),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_conversation",
            ["workspace_id", "conversation_id", "state"],
            unique=False,
        )
        batch_op.create_index("ix_deliveries_state_due", ["state", "due_at"], unique=False)

    op.create_table(
        "sync_conversations",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", _Epoch, nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", _Epoch, nullable=True),
        sa.PrimaryKeyConstraint(
            "workspace_id", "conversation_id", name=op.f("pk_sync_conversations")
        ),
    )
    with op.batch_alter_table("sync_conversations", schema=None) as batch_op:
        batch_op.create_index("ix_sync_conversations_due", ["due_at"], unique=False)

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_state_next")
        batch_op.drop_column("next_attempt_at")
        batch_op.add_column(sa.Column("due_at", _Epoch, nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("age_from", _Epoch, nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_until", _Epoch, nullable=True))
        batch_op.create_index("ix_jobs_state_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_state_due")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("age_from")
        batch_op.drop_column("due_at")
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_jobs_state_next", ["state", "next_attempt_at"], unique=False)

    with op.batch_alter_table("sync_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_conversations_due")
    op.drop_table("sync_conversations")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_due")
        batch_op.drop_index("ix_deliveries_conversation")
    op.drop_table("deliveries")

    with op.batch_alter_table("conversation_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_parts_plan")
        batch_op.drop_column("planned_at")
        batch_op.drop_column("plan")
        batch_op.drop_column("log")
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_parts_state_conversation",
            ["state", "workspace_id", "conversation_id", "part_created_at"],
            unique=False,
        )

    op.create_table(
        "part_deliveries",
        sa.Column("part_row_id", _RowId, nullable=False),
        sa.Column("ticket_class", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["part_row_id"],
            ["conversation_parts.id"],
            name=op.f("fk_part_deliveries_part_row_id_conversation_parts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "part_row_id", "ticket_class", "ticket_id", name=op.f("pk_part_deliveries")
        ),
    )
