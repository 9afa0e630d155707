"""Database tables (SQLAlchemy Core, SQLite or PostgreSQL); their history is in digest/db/migrations."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from subscribers.table import UTCDateTime as UTCDateTime
from subscribers.table import metadata as metadata
from subscribers.table import one_of
from subscribers.table import subscribers as subscribers

from ..models import DeliveryStatus, IssueStatus

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
    Column("words", Integer, nullable=False, server_default="0"),
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
    one_of("issues", IssueStatus),
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
    Column("next_attempt_at", UTCDateTime),   # when a deferred row may be tried again
    UniqueConstraint("issue_id", "subscriber_id", name="uq_delivery_issue_subscriber"),
    one_of("deliveries", DeliveryStatus),
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
