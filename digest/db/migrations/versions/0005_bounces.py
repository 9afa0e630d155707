"""What comes back after a send: feedback on deliveries, the events applied, complained subscribers.

Revision ID: 0005_bounces
Revises: 0004_consent
Create Date: 2026-11-30

Deliveries get what came back (feedback: hard, soft or complaint; its code, diagnostic and time) and
an index on message_id (bounces are matched by it); feedback_events keeps each bounce, complaint or
webhook event applied, by its own id, so none is applied twice. (The "complained" subscriber state came
with 0004_consent.) Values written out here, never imported.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_bounces"
down_revision: str | None = "0004_consent"
branch_labels: str | None = None
depends_on: str | None = None

FEEDBACK = ("hard", "soft", "complaint")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("feedback", sa.String(20)))
        batch.add_column(sa.Column("feedback_code", sa.String(20)))
        batch.add_column(sa.Column("feedback_text", sa.Text()))
        batch.add_column(sa.Column("feedback_at", sa.DateTime()))
        batch.create_check_constraint("ck_deliveries_feedback", f"feedback IN ({_in(FEEDBACK)})")
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"])
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("deliveries.id")),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id")),
        sa.Column("detail", sa.Text()),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("source", "key", name="uq_feedback_event"),
    )


def downgrade() -> None:
    op.drop_table("feedback_events")
    op.drop_index("ix_deliveries_message_id", "deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("ck_deliveries_feedback", type_="check")
        for column in ("feedback_at", "feedback_text", "feedback_code", "feedback"):
            batch.drop_column(column)
