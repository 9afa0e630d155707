"""The archive of sent stories, searchable in the database itself.

Revision ID: 0013_archive
Revises: 0012_bounce_reasons
Create Date: 2026-12-07

archive_stories holds one row per story of each issue that started sending, as it went out; its
``document`` column is the searchable text written one way (lower case, accents dropped, words and numbers
only), which each database indexes in its own terms:

- SQLite: archive_search, an FTS5 table over archive_stories.document (external content), kept in step
  by three triggers on archive_stories;
- PostgreSQL: search_vector, a generated tsvector column (the 'simple' configuration: no stemming, as
  FTS5's unicode61), with the GIN index ix_archive_stories_search.

The stories of issues sent before this revision are copied in from each issue's stored content. Their
patent, mark and case numbers are worked out by the program (digest/archive.py) the next time it searches
or sends: ``numbers`` is NULL until then, and the meta key archive_numbers says that some are.

A later revision that rebuilds archive_stories (SQLite's batch mode copies a table to change it) must make
the three triggers again.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013_archive"
down_revision: str | None = "0012_bounce_reasons"
branch_labels: str | None = None
depends_on: str | None = None

TRIGGERS = {
    "archive_stories_ai": "AFTER INSERT ON archive_stories BEGIN "
    "INSERT INTO archive_search (rowid, document) VALUES (new.id, new.document); END",
    "archive_stories_ad": "AFTER DELETE ON archive_stories BEGIN "
    "INSERT INTO archive_search (archive_search, rowid, document) VALUES ('delete', old.id, old.document); END",
    "archive_stories_au": "AFTER UPDATE OF document ON archive_stories BEGIN "
    "INSERT INTO archive_search (archive_search, rowid, document) VALUES ('delete', old.id, old.document); "
    "INSERT INTO archive_search (rowid, document) VALUES (new.id, new.document); END",
}


def written_one_way(*parts: str) -> str:
    """The same as digest.db.archive.written_one_way, as it stood at this revision."""
    text = unicodedata.normalize("NFKD", " ".join(parts).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[^\W_]+", text))


def upgrade() -> None:
    archive = op.create_table(
        "archive_stories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id"), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("published", sa.DateTime(), nullable=False),
        sa.Column("sent", sa.DateTime(), nullable=False),
        sa.Column("topics", sa.String(1000), nullable=False),
        sa.Column("jurisdictions", sa.String(1000), nullable=False, server_default=","),
        sa.Column("numbers", sa.Text()),
        sa.Column("document", sa.Text(), nullable=False),
        sa.UniqueConstraint("issue_id", "article_id", name="uq_archive_story"),
    )
    op.create_index("ix_archive_stories_issue", "archive_stories", ["issue_id"])
    op.create_index("ix_archive_stories_published", "archive_stories", ["published"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE archive_search USING fts5(document, content='archive_stories', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        op.execute(
            "ALTER TABLE archive_stories ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', document)) STORED"
        )
        op.execute("CREATE INDEX ix_archive_stories_search ON archive_stories USING gin (search_vector)")
    rows = list(_stories(bind))
    if rows:
        op.bulk_insert(archive, rows)
        op.execute("INSERT INTO meta (key, value) VALUES ('archive_numbers', 'pending')")


def _stories(bind: sa.Connection) -> Any:
    issues = bind.execute(
        sa.text(
            "SELECT id, period_end, sent_at, content FROM issues WHERE status IN ('sending', 'sent') "
            "ORDER BY coalesce(send_started_at, period_end), id"
        )
    )
    for issue_id, end, sent_at, content in issues:
        seen: set[int] = set()
        for section in json.loads(content)["sections"]:
            for a in section["articles"]:
                if a["id"] in seen:
                    continue
                seen.add(a["id"])
                topics = [t for t in a.get("topics", ()) if t]
                places = [j for j in a.get("jurisdictions", ()) if j]
                yield {
                    "issue_id": issue_id,
                    "article_id": a["id"],
                    "url": a["url"],
                    "title": a["title"],
                    "summary": a["summary"],
                    "source": a["source"],
                    "published": _when(a["published"]),
                    "sent": _when(sent_at or end),
                    "topics": "," + "".join(f"{t}," for t in topics),
                    "jurisdictions": "," + "".join(f"{j}," for j in places),
                    "numbers": None,
                    "document": written_one_way(a["title"], a["summary"], a["source"], *topics, *places),
                }


def _when(value: Any) -> datetime:
    """A naive UTC datetime, as the program's UTCDateTime columns keep them."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS archive_search")
    op.execute("DELETE FROM meta WHERE key = 'archive_numbers'")
    op.drop_index("ix_archive_stories_published", table_name="archive_stories")
    op.drop_index("ix_archive_stories_issue", table_name="archive_stories")
    op.drop_table("archive_stories")
