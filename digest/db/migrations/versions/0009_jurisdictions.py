"""Articles keep the jurisdictions they name; subscribers keep the jurisdictions they chose.

Revision ID: 0009_jurisdictions
Revises: 0008_topic_labels
Create Date: 2026-12-03

Articles stored before this revision get NULL: their jurisdictions have not been read yet, and the next
build (or `digest db upgrade`) reads them from the stored title, summary and source. Subscribers get ""
(none chosen: every jurisdiction), so what they receive does not change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_jurisdictions"
down_revision: str | None = "0008_topic_labels"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("jurisdictions", sa.String(500), nullable=True))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("jurisdictions", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("jurisdictions")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("jurisdictions")
