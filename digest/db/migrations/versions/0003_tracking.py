"""The clicks and opens tables: followed article links and fetched open images of sent issues, when
[tracking] asks for them.

Revision ID: 0003_tracking
Revises: 0002_status_checks
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_tracking"
down_revision: str | None = "0002_status_checks"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "clicks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id"), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer()),
        sa.Column("clicked_at", sa.DateTime(), nullable=False),
        sa.Column("head", sa.Boolean(), nullable=False),
        sa.Column("scanner_agent", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_clicks_issue", "clicks", ["issue_id", "clicked_at"])
    op.create_table(
        "opens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id"), nullable=False),
        sa.Column("subscriber_id", sa.Integer()),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_opens_issue", "opens", ["issue_id", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_opens_issue", table_name="opens")
    op.drop_table("opens")
    op.drop_index("ix_clicks_issue", table_name="clicks")
    op.drop_table("clicks")
