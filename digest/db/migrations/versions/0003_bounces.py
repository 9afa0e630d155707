"""What comes back after a send: feedback on deliveries, the events applied, complained subscribers.

Revision ID: 0003_bounces
Revises: 0002_status_checks
Create Date: 2026-11-30

Deliveries get what came back (feedback: hard, soft or complaint; its code, diagnostic and time) and
an index on message_id (bounces are matched by it); feedback_events keeps each bounce, complaint or
webhook event applied, by its own id, so none is applied twice; subscribers may be "complained"
(suppressed for good). Values written out here, never imported.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_bounces"
down_revision: str | None = "0002_status_checks"
branch_labels: str | None = None
depends_on: str | None = None

SUBSCRIBER_STATES = ("pending", "active", "unsubscribed", "bounced", "complained")
BEFORE = ("pending", "active", "unsubscribed", "bounced")
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
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("ck_subscribers_status", type_="check")
        batch.create_check_constraint("ck_subscribers_status", f"status IN ({_in(SUBSCRIBER_STATES)})")
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
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("ck_subscribers_status", type_="check")
        batch.create_check_constraint("ck_subscribers_status", f"status IN ({_in(BEFORE)})")
    op.drop_index("ix_deliveries_message_id", "deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("ck_deliveries_feedback", type_="check")
        for column in ("feedback_at", "feedback_text", "feedback_code", "feedback"):
            batch.drop_column(column)
