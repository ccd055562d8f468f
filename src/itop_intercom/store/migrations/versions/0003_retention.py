"""retention: indexes that make the purge of old rows a range scan

Revision ID: 0003_retention
Revises: 0003_messenger_nonces (chained after the other 0003 migrations when they landed)

The worker deletes, in small batches, the deliveries, jobs and back-sync posts finished long
enough ago and the parts received long enough ago. Without these indexes each batch would scan
every row of its table, which on a database of millions of rows would be slow and hold the write
lock.
"""

from __future__ import annotations

from alembic import op

revision = "0003_retention"
down_revision = "0003_messenger_nonces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_parts_received", "conversation_parts", ["received_at"])
    op.create_index("ix_deliveries_state_finished", "deliveries", ["state", "finished_at"])
    op.create_index("ix_jobs_state_finished", "jobs", ["state", "finished_at"])
    op.create_index("ix_backsync_outbox_finished", "backsync_outbox", ["state", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_backsync_outbox_finished", table_name="backsync_outbox")
    op.drop_index("ix_jobs_state_finished", table_name="jobs")
    op.drop_index("ix_deliveries_state_finished", table_name="deliveries")
    op.drop_index("ix_parts_received", table_name="conversation_parts")
