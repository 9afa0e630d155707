"""Subscriber ids are never given twice: AUTOINCREMENT on SQLite.

Revision ID: 0010_subscriber_ids
Revises: 0009_jurisdictions
Create Date: 2026-12-07

SQLite gives a new row the largest id in the table plus one, so erasing the newest subscriber let the next
one take the erased person's id (and with it their old links and late bounces). AUTOINCREMENT keeps the
largest id ever given in sqlite_sequence instead. The copy of the table starts the count at the largest
id that anything still holds (subscribers, deliveries, history, feedback, clicks, opens), so an id that
was erased before this revision but is still named somewhere is not given again either.
PostgreSQL's sequence already never goes back: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0010_subscriber_ids"
down_revision: str | None = "0009_jurisdictions"
branch_labels: str | None = None
depends_on: str | None = None

HOLDERS = (
    "subscribers.id",
    "deliveries.subscriber_id",
    "subscriber_events.subscriber_id",
    "feedback_events.subscriber_id",
    "clicks.subscriber_id",
    "opens.subscriber_id",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table("subscribers", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass
    largest = max(
        int(bind.exec_driver_sql(f"SELECT coalesce(max({c}), 0) FROM {t}").scalar_one() or 0)
        for t, c in (h.split(".") for h in HOLDERS)
    )
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'subscribers'")
    bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers', ?)", (largest,))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table("subscribers", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
