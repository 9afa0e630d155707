"""Databases made before schema revisions began, recognised by what they hold.

Such a database has a ``meta`` row ``schema_version``. Four shapes were released under three numbers:

    1                  no deliveries.next_attempt_at, no ix_deliveries_claim, no issue_edits
    2 (outbox branch)  next_attempt_at and ix_deliveries_claim, no issue_edits
    2 (editors')       issue_edits, no next_attempt_at, no ix_deliveries_claim
    3                  all of them: the shape of revision 0001_schema

The number is not trusted: what is missing is read from the database and added, which makes each
shape that of revision 0001_schema; the caller then stamps it with that revision. The operations
are frozen here, as in a revision, never taken from the live tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection, inspect, text

from ..errors import SchemaMismatch

FIRST_REVISION = "0001_schema"
NEWEST_VERSION = 3  # the last schema_version number before revisions began
EVERY_VERSION_HAD = ("meta", "sources", "articles", "issues", "subscribers", "deliveries")


def legacy_version(conn: Connection) -> int:
    """The schema_version row of a database made before revisions (0 when the row is missing)."""
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def bring_to_first_revision(conn: Connection) -> list[str]:
    """Add what a pre-revision database lacks, keeping every row; returns what was added."""
    insp = inspect(conn)
    missing = [name for name in EVERY_VERSION_HAD if not insp.has_table(name)]
    if missing:
        raise SchemaMismatch(
            f"the database holds tables that ip-digest did not make (no {', '.join(missing)}); "
            "point DIGEST_DATABASE_URL at the digest's own database, or at a new one"
        )
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    ops = Operations(MigrationContext.configure(conn, opts={"render_as_batch": True}))
    added = []
    if "next_attempt_at" not in {c["name"] for c in insp.get_columns("deliveries")}:
        ops.add_column("deliveries", sa.Column("next_attempt_at", sa.DateTime()))
        added.append("deliveries.next_attempt_at")
    if "ix_deliveries_claim" not in {i["name"] for i in insp.get_indexes("deliveries")}:
        ops.create_index("ix_deliveries_claim", "deliveries", ["issue_id", "status", "id"])
        added.append("ix_deliveries_claim")
    if not insp.has_table("issue_edits"):
        ops.create_table(
            "issue_edits",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("week", sa.String(10), nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("target", sa.String(100), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.UniqueConstraint("week", "kind", "target", name="uq_issue_edit"),
        )
        added.append("issue_edits")
    conn.execute(text("DELETE FROM meta WHERE key = 'schema_version'"))
    return added
