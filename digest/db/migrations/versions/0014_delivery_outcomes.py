"""The outcome log: a send on PostgreSQL appends each message's outcome and folds them into the outbox.

Revision ID: 0014_delivery_outcomes
Revises: 0013_archive
Create Date: 2026-12-04

Each message's outcome was an UPDATE of its deliveries row: on PostgreSQL never a HOT update (the status
and the Message-ID are indexed), so a new row version and four index entries a message, about 160 µs of
the server's CPU. It is now appended to delivery_outcomes, a table with no index and no foreign key of its
own, and folded into deliveries in bulk (digest/db/deliveries.py). SQLite keeps writing the row itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_delivery_outcomes"
down_revision: str | None = "0013_archive"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_outcomes",
        sa.Column("delivery_id", sa.Integer(), nullable=False),  # no foreign key: see tables.py
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tried", sa.Boolean(), nullable=False),
        sa.Column("reply_code", sa.Integer()),
        sa.Column("reply_text", sa.Text()),
        sa.Column("message_id", sa.String(500)),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime()),
    )


def downgrade() -> None:
    op.drop_table("delivery_outcomes")
