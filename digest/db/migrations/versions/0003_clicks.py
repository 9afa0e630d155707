"""The clicks table: followed article links of sent issues, when click tracking is on.

Revision ID: 0003_clicks
Revises: 0002_status_checks
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_clicks"
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


def downgrade() -> None:
    op.drop_index("ix_clicks_issue", table_name="clicks")
    op.drop_table("clicks")
