"""Database tables and their versioned migrations (SQLAlchemy Core, SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
)

from subscribers.table import UTCDateTime as UTCDateTime
from subscribers.table import metadata as metadata
from subscribers.table import subscribers as subscribers

meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

sources = Table(
    "sources", metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("etag", String(500)),
    Column("last_modified", String(200)),
    Column("last_fetch", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_error", Text),
)

articles = Table(
    "articles", metadata,
    Column("id", Integer, primary_key=True),
    Column("guid", String(2000), nullable=False, index=True),
    Column("canonical_url", String(2000), nullable=False, unique=True),
    Column("url", String(2000), nullable=False),
    Column("title", Text, nullable=False),
    Column("source", String(500), nullable=False),
    Column("published", UTCDateTime, nullable=False, index=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("summary", Text, nullable=False),
    Column("topics", String(1000), nullable=False),
)

issues = Table(
    "issues", metadata,
    Column("id", Integer, primary_key=True),
    Column("week", String(10), nullable=False, unique=True),
    Column("status", String(20), nullable=False, default="draft"),
    Column("subject", Text, nullable=False),
    Column("preheader", Text, nullable=False),
    Column("period_start", UTCDateTime, nullable=False),
    Column("period_end", UTCDateTime, nullable=False),
    Column("content", Text, nullable=False),
    Column("built_at", UTCDateTime, nullable=False),
    Column("approved_at", UTCDateTime),
    Column("send_started_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id"), nullable=False),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=False),
    Column("status", String(20), nullable=False, default="pending", index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("message_id", String(500)),
    Column("reply_code", Integer),
    Column("reply_text", Text),
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),   # version 2: when a deferred row may be tried again
    UniqueConstraint("issue_id", "subscriber_id", name="uq_delivery_issue_subscriber"),
)
Index("ix_deliveries_claim", deliveries.c.issue_id, deliveries.c.status, deliveries.c.id)

issue_edits = Table(
    "issue_edits", metadata,
    Column("id", Integer, primary_key=True),
    Column("week", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("target", String(100), nullable=False, default=""),
    Column("value", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("week", "kind", "target", name="uq_issue_edit"),
)

Migration = Callable[[Connection], None]


def _add_column(conn: Connection, table: Table, name: str) -> None:
    column = table.c[name]
    kind = column.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")


def _v2_outbox(conn: Connection) -> None:
    """The delivery outbox: retry times and an index for claiming rows in batches."""
    _add_column(conn, deliveries, "next_attempt_at")
    for index in deliveries.indexes:
        if index.name == "ix_deliveries_claim":
            index.create(conn)


# Each release that changes the schema appends a step here; step N brings a database at
# version N-1 to version N. A new database is created at the newest version directly.
MIGRATIONS: list[Migration] = [
    lambda conn: metadata.create_all(conn, tables=[meta, sources, articles, issues, subscribers, deliveries]),
    _v2_outbox,
    lambda conn: issue_edits.create(conn),
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: Connection) -> int:
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def migrate(conn: Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it was at."""
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"the database is at schema version {found}, newer than this program's {SCHEMA_VERSION}; upgrade ip-digest"
        )
    if found == 0:
        metadata.create_all(conn)
    else:
        for step in MIGRATIONS[found:]:
            step(conn)
    if found != SCHEMA_VERSION:
        conn.execute(meta.delete().where(meta.c.key == "schema_version"))
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    return found
