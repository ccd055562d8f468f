"""messenger nonces: replay protection of the iTop module's signed requests

Revision ID: 0003_messenger_nonces
Revises: 0003_backsync (chained after the back-sync tables merged first)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_messenger_nonces"
down_revision = "0003_backsync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messenger_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_messenger_nonces")),
    )
    op.create_index("ix_messenger_nonces_expires", "messenger_nonces", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messenger_nonces_expires", table_name="messenger_nonces")
    op.drop_table("messenger_nonces")
