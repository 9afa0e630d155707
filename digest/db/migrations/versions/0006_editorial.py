"""Articles keep their length in words, for reading times.

Revision ID: 0006_editorial
Revises: 0005_bounces
Create Date: 2026-11-30

Articles stored before this revision get 0: their length is not known, and no reading time is shown.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_editorial"
down_revision: str | None = "0005_bounces"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("words", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("words")
