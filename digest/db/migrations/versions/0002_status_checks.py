"""CHECK constraints on the stored states: issues, deliveries and subscribers.

Revision ID: 0002_status_checks
Revises: 0001_schema
Create Date: 2026-11-30

The values are written out here (the StrEnums of that day), never imported: a later state is
a later revision. Batch mode, so SQLite copies each table into one that has the constraint.
"""

from __future__ import annotations

from alembic import op

revision = "0002_status_checks"
down_revision: str | None = "0001_schema"
branch_labels: str | None = None
depends_on: str | None = None

STATES = {
    "issues": ("draft", "sending", "sent", "skipped"),
    "deliveries": ("pending", "sending", "sent", "deferred", "failed", "skipped"),
    "subscribers": ("pending", "active", "unsubscribed", "bounced"),
}


def upgrade() -> None:
    for table, values in STATES.items():
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(f"ck_{table}_status", f"status IN ({allowed})")


def downgrade() -> None:
    for table in STATES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"ck_{table}_status", type_="check")
