"""Sign-up mail goes through the database: the notices table.

Revision ID: 0011_notices
Revises: 0010_subscriber_ids
Create Date: 2026-12-07

A confirmation or "already subscribed" mail was kept in memory until sent, so a mail server that was down,
or a restart, lost it. Each is now a row, retried with backoff and sent after a restart.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_notices"
down_revision: str | None = "0010_subscriber_ids"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_notices_email", "notices", ["email"])
    op.create_index("ix_notices_next_attempt_at", "notices", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("notices")
