"""The deliveries table loses its index on status alone.

Revision ID: 0007_outbox_index
Revises: 0006_editorial
Create Date: 2026-11-30

Every query by status also names the issue, and ix_deliveries_claim (issue_id, status, id) serves it; the
index on status alone only cost each message's outcome one more B-tree to update (the claim, the outcome:
two changes of status per message), about a fifth of SQLite's work per outcome.
"""

from __future__ import annotations

from alembic import op

revision = "0007_outbox_index"
down_revision: str | None = "0006_editorial"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_status", table_name="deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_status", "deliveries", ["status"])
