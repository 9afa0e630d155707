"""Database tables (SQLAlchemy Core, SQLite or PostgreSQL); their history is in digest/db/migrations."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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

from ..models import DeliveryStatus, Feedback, IssueStatus

meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

sources = Table(
    "sources",
    metadata,
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
    "articles",
    metadata,
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
    Column("jurisdictions", String(500)),  # codes joined by commas; NULL: stored before they were read
)

issues = Table(
    "issues",
    metadata,
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
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id"), nullable=False),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=False),
    Column("status", String(20), nullable=False, default="pending"),  # queried with the issue: ix_deliveries_claim
    Column("attempts", Integer, nullable=False, default=0),
    Column("message_id", String(500)),
    Column("reply_code", Integer),
    Column("reply_text", Text),
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),  # when a deferred row may be tried again
    Column("feedback", String(20)),  # what came back after the send: hard, soft, complaint
    Column("feedback_code", String(20)),  # its status code (5.1.1) or feedback type (abuse)
    Column("feedback_text", Text),  # its diagnostic
    Column("feedback_at", UTCDateTime),
    Column("feedback_reason", String(20)),  # why: userunknown, mailboxfull, blocked, … (bounces/reasons.py)
    UniqueConstraint("issue_id", "subscriber_id", name="uq_delivery_issue_subscriber"),
    one_of("deliveries", DeliveryStatus),
    CheckConstraint(f"feedback IN ({', '.join(repr(f.value) for f in Feedback)})", name="ck_deliveries_feedback"),
)
Index("ix_deliveries_message_id", deliveries.c.message_id)
Index("ix_deliveries_claim", deliveries.c.issue_id, deliveries.c.status, deliveries.c.id)

# Outcomes of messages just sent, not yet written into their deliveries rows (PostgreSQL's send path,
# digest/db/deliveries.py): one row appended per message, folded into ``deliveries`` in bulk a few times a
# second and at the end of each send. A log with no index of its own, and no foreign key: appending to it
# costs the server about half of updating the outbox row itself, whose indexes change with its status, and
# a foreign key's check would lock (write) that row for every message. The outbox's own deletions (prune,
# erasure) delete their rows' logged outcomes, and a fold drops any whose row is gone.
delivery_outcomes = Table(
    "delivery_outcomes",
    metadata,
    Column("delivery_id", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("tried", Boolean, nullable=False),  # an attempt was made: the row's attempts go up by one
    Column("reply_code", Integer),
    Column("reply_text", Text),
    Column("message_id", String(500)),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime),
)

# Every bounce, complaint or webhook event applied, by its source's own id: none is applied twice.
feedback_events = Table(
    "feedback_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),  # mail, ses, postmark, mailgun, sendgrid
    Column("key", String(500), nullable=False),  # the report's Message-ID, or the event's id
    # hard, soft, complaint, autoreply, other, unmatched; sender: a refusal about our side (no subscriber)
    Column("kind", String(20), nullable=False),
    Column("delivery_id", Integer, ForeignKey("deliveries.id")),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id")),
    Column("detail", Text),
    Column("received_at", UTCDateTime, nullable=False),
    Column("reason", String(20)),  # userunknown, mailboxfull, blocked, …, feedback (a complaint)
    Column("provider", String(255)),  # the failing recipient's domain
    Column("code", String(20)),  # the status code (5.7.1) or feedback type
    UniqueConstraint("source", "key", name="uq_feedback_event"),
)
Index("ix_feedback_events_kind_received", feedback_events.c.kind, feedback_events.c.received_at)

issue_edits = Table(
    "issue_edits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("week", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("target", String(100), nullable=False, default=""),
    Column("value", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("week", "kind", "target", name="uq_issue_edit"),
)

# An article an editor excluded as off topic, kept as the topic filter saw it: a label that outlives the draft.
topic_labels = Table(
    "topic_labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, nullable=True),
    Column("week", String(10), nullable=False),
    Column("title", Text, nullable=False),
    Column("lead", Text, nullable=False),
    Column("source", String(500), nullable=False),
    Column("scope", String(20), nullable=False, default="general"),
    Column("reason", String(200), nullable=False),
    Column("labelled_at", UTCDateTime, nullable=False),
    UniqueConstraint("week", "article_id", name="uq_topic_label"),
)

# A followed article link of a sent issue (tracking clicks = true): who only when per_subscriber = true,
# and no address or agent string: only whether the agent is a known link scanner.
clicks = Table(
    "clicks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id"), nullable=False),
    Column("article_id", Integer, nullable=False),
    Column("subscriber_id", Integer),  # no foreign key: a forgotten subscriber's clicks stay, anonymous
    Column("clicked_at", UTCDateTime, nullable=False),
    Column("head", Boolean, nullable=False, default=False),
    Column("scanner_agent", Boolean, nullable=False, default=False),
)
Index("ix_clicks_issue", clicks.c.issue_id, clicks.c.clicked_at)

# An open: the image at the end of a sent issue's HTML was fetched (tracking opens = true). Image proxies
# and Apple Mail Privacy Protection fetch it for the reader, so opens are an upper bound.
opens = Table(
    "opens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id"), nullable=False),
    Column("subscriber_id", Integer),
    Column("opened_at", UTCDateTime, nullable=False),
)
Index("ix_opens_issue", opens.c.issue_id, opens.c.opened_at)

# The editor's signed-in sessions, kept on the server so that logging out (or a new password) ends them:
# the cookie carries a random token, the table only its SHA-256.
editor_sessions = Table(
    "editor_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("account_key", String(64), nullable=False),  # fingerprint of the account: a new password voids it
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Sign-up mail waiting to go out (a confirmation link, or a note with the preferences link): written by the
# sign-up, deleted once the server took it (or refused it for good); a failed try waits next_attempt_at.
# `forget` deletes a person's rows with them.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("email", String(320), nullable=False, index=True),
    Column("name", String(500), nullable=False, default=""),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
)

# Every story of every sent issue, as it went out: what the archive's search reads (digest/db/archive.py).
# ``document`` is the searchable text, written one way (lower case, words and numbers only); the full-text
# index over it is the database's own and is kept in step by the database itself: SQLite's FTS5 table
# archive_search (external content, with triggers), PostgreSQL's generated tsvector column search_vector
# with a GIN index. Both are made by migration 0013_archive, and neither is in these models.
archive_stories = Table(
    "archive_stories",
    metadata,
    Column("id", Integer, primary_key=True),  # grows as issues are sent: the newest story has the highest
    Column("issue_id", Integer, ForeignKey("issues.id"), nullable=False),
    Column("article_id", Integer, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", String(500), nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("sent", UTCDateTime, nullable=False),  # the issue's date
    Column("topics", String(1000), nullable=False),  # ",patents,designs,": each code between commas
    Column("jurisdictions", String(1000), nullable=False, server_default=","),  # ",upc,eu,"
    Column("numbers", Text),  # "EP3512904B1 US10123456"; NULL: not worked out yet (stories of older issues)
    Column("document", Text, nullable=False),
    UniqueConstraint("issue_id", "article_id", name="uq_archive_story"),
)
Index("ix_archive_stories_issue", archive_stories.c.issue_id)
Index("ix_archive_stories_published", archive_stories.c.published)  # date ranges
