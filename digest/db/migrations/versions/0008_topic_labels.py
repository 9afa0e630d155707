"""Editors' off-topic labels: the articles excluded with the reason "off topic", kept for the topic filter.

Revision ID: 0008_topic_labels
Revises: 0007_outbox_index
Create Date: 2026-12-03

A new table; nothing stored before changes. Values written out here, never imported.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_topic_labels"
down_revision: str | None = "0007_outbox_index"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "topic_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lead", sa.Text(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("labelled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("week", "article_id", name="uq_topic_label"),
    )


def downgrade() -> None:
    op.drop_table("topic_labels")
