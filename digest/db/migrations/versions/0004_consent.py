"""Consent you can prove: the subscriber_events history, the suppression list of erased addresses, the
complained subscriber state; and the editor's sessions kept on the server.

Revision ID: 0004_consent
Revises: 0003_tracking
Create Date: 2026-11-30

Values and columns are written out here, never imported. Batch mode, so SQLite copies the subscribers
table into one with the wider CHECK constraint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_consent"
down_revision: str | None = "0003_tracking"
branch_labels: str | None = None
depends_on: str | None = None

OLD_STATES = ("pending", "active", "unsubscribed", "bounced")
NEW_STATES = (*OLD_STATES, "complained")
KINDS = (
    "signed_up",
    "confirmed",
    "topics_changed",
    "paused",
    "resumed",
    "unsubscribed",
    "bounced",
    "complained",
    "resubscribed",
)


def _states(values: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{v}'" for v in values))


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("ck_subscribers_status", type_="check")
        batch.create_check_constraint("ck_subscribers_status", _states(NEW_STATES))
    op.create_table(
        "subscriber_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ({})".format(", ".join(f"'{k}'" for k in KINDS)), name="ck_subscriber_events_kind"),
    )
    op.create_index("ix_subscriber_events_subscriber_id", "subscriber_events", ["subscriber_id"])
    op.create_table(
        "suppressed",
        sa.Column("address_hash", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
    )
    op.create_table(
        "editor_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("editor_sessions")
    op.drop_table("suppressed")
    op.drop_index("ix_subscriber_events_subscriber_id", "subscriber_events")
    op.drop_table("subscriber_events")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("ck_subscribers_status", type_="check")
        batch.create_check_constraint("ck_subscribers_status", _states(OLD_STATES))
