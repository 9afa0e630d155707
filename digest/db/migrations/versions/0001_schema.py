"""The schema as it stood when revisions began (what schema version 3 made).

Revision ID: 0001_schema
Revises:
Create Date: 2026-11-30

Operations are written out here, never taken from digest.db.tables: this revision must keep
doing the same thing after the models change. A database made before revisions began is
brought to this shape by digest.db.legacy and stamped with this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_schema"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("etag", sa.String(500)),
        sa.Column("last_modified", sa.String(200)),
        sa.Column("last_fetch", sa.DateTime()),
        sa.Column("last_success", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("guid", sa.String(2000), nullable=False),
        sa.Column("canonical_url", sa.String(2000), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("published", sa.DateTime(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("topics", sa.String(1000), nullable=False),
        sa.UniqueConstraint("canonical_url"),
    )
    op.create_index("ix_articles_guid", "articles", ["guid"])
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("preheader", sa.Text(), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("approved_at", sa.DateTime()),
        sa.Column("send_started_at", sa.DateTime()),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_until", sa.DateTime()),
        sa.UniqueConstraint("week"),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("topics", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime()),
        sa.Column("consent_ip", sa.String(64)),
        sa.Column("unsubscribed_at", sa.DateTime()),
        sa.Column("bounced_at", sa.DateTime()),
        sa.UniqueConstraint("email"),
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id"), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(500)),
        sa.Column("reply_code", sa.Integer()),
        sa.Column("reply_text", sa.Text()),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_until", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("next_attempt_at", sa.DateTime()),
        sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_delivery_issue_subscriber"),
    )
    op.create_index("ix_deliveries_status", "deliveries", ["status"])
    op.create_index("ix_deliveries_claim", "deliveries", ["issue_id", "status", "id"])
    op.create_table(
        "issue_edits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("week", "kind", "target", name="uq_issue_edit"),
    )


def downgrade() -> None:
    for table in ("issue_edits", "deliveries", "subscribers", "issues", "articles", "sources", "meta"):
        op.drop_table(table)
