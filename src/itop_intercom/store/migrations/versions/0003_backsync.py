"""iTop → Intercom back-sync: history cursor, link start points, outbox, conversation leases

Revision ID: 0003_backsync
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_backsync"
down_revision = "0002"
branch_labels = None
depends_on = None

_RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Epoch = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "backsync_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("op_id", sa.BigInteger(), nullable=True),
        sa.Column("since", sa.String(length=19), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", _Epoch, nullable=True),
        sa.Column("polled_at", _Epoch, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_backsync_cursor")),
    )
    op.create_table(
        "backsync_links",
        sa.Column("ticket_class", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("sync_on", sa.Boolean(), nullable=False),
        sa.Column("since_op", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "ticket_class",
            "ticket_id",
            "workspace_id",
            "conversation_id",
            name=op.f("pk_backsync_links"),
        ),
    )
    op.create_table(
        "backsync_outbox",
        sa.Column("id", _RowId, autoincrement=True, nullable=False),
        sa.Column("op_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_class", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("changed_at", _Epoch, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_at", _Epoch, nullable=False),
        sa.Column("age_from", _Epoch, nullable=False),
        sa.Column("started_at", _Epoch, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _Epoch, nullable=False),
        sa.Column("finished_at", _Epoch, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backsync_outbox")),
        sa.UniqueConstraint(
            "op_id", "kind", "workspace_id", "conversation_id", name="uq_backsync_outbox_post"
        ),
    )
    with op.batch_alter_table("backsync_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_backsync_outbox_conversation",
            ["workspace_id", "conversation_id", "state"],
            unique=False,
        )
        batch_op.create_index("ix_backsync_outbox_state", ["state", "changed_at"], unique=False)
    op.create_table(
        "backsync_conversations",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", _Epoch, nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", _Epoch, nullable=True),
        sa.PrimaryKeyConstraint(
            "workspace_id", "conversation_id", name=op.f("pk_backsync_conversations")
        ),
    )
    with op.batch_alter_table("backsync_conversations", schema=None) as batch_op:
        batch_op.create_index("ix_backsync_conversations_due", ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("backsync_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_backsync_conversations_due")
    op.drop_table("backsync_conversations")
    with op.batch_alter_table("backsync_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_backsync_outbox_state")
        batch_op.drop_index("ix_backsync_outbox_conversation")
    op.drop_table("backsync_outbox")
    op.drop_table("backsync_links")
    op.drop_table("backsync_cursor")
