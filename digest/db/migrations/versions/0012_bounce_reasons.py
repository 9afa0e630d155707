"""Why a message came back: the reason on the delivery and on each event, and the provider it names.

Revision ID: 0012_bounce_reasons
Revises: 0011_notices
Create Date: 2026-12-03

deliveries.feedback_reason holds the bounce's reason class (userunknown, mailboxfull, blocked, …);
feedback_events gains the same reason, the provider (the failing recipient's domain) and the status code,
so that sender-side refusals (a blocklisted IP, content taken for spam) can be counted per provider for
the operator without touching any subscriber. Existing rows keep NULL: their reason was never read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_bounce_reasons"
down_revision: str | None = "0011_notices"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("feedback_reason", sa.String(20)))
    with op.batch_alter_table("feedback_events") as batch:
        batch.add_column(sa.Column("reason", sa.String(20)))
        batch.add_column(sa.Column("provider", sa.String(255)))
        batch.add_column(sa.Column("code", sa.String(20)))
    op.create_index("ix_feedback_events_kind_received", "feedback_events", ["kind", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_events_kind_received", table_name="feedback_events")
    with op.batch_alter_table("feedback_events") as batch:
        batch.drop_column("code")
        batch.drop_column("provider")
        batch.drop_column("reason")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("feedback_reason")
