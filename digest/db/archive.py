"""The archive of sent stories and its full-text search: the one query module for both databases.

Each story of an issue that starts sending is recorded once (``record``), with a ``document``: its title,
summary, source, topics, jurisdictions and numbers written one way (lower case, accents dropped, words and
numbers only). The database indexes that column itself (migration 0013_archive): SQLite in the FTS5 table
archive_search, which triggers keep in step with every insert, update and delete; PostgreSQL in the
generated tsvector column search_vector under a GIN index. A search's text is written the same way, and
each of its words must begin a word of the story ("patent" finds "patents"; "ep3512904" finds
"ep3512904b1"). Results come newest sent first: the row id grows with each send, and both indexes can
hand rows over in that order and stop at the page's end.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ..models import Article, Issue
from . import tables as t

s = t.archive_stories
CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")  # a topic or jurisdiction code: nothing LIKE would read as a pattern
MAX_WORDS = 16
PENDING = "archive_numbers"  # meta key: some stories' numbers are not worked out yet (see 0013_archive)


def written_one_way(*parts: str) -> str:
    """``parts`` in lower case without accents, as words and numbers separated by single spaces."""
    folded = unicodedata.normalize("NFKD", " ".join(parts).lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[^\W_]+", folded))


def _listed(codes: Sequence[str]) -> str:
    return "," + "".join(f"{c}," for c in codes if c)


def _codes(value: str) -> tuple[str, ...]:
    return tuple(x for x in value.split(",") if x)


@dataclass(frozen=True)
class Story:
    """A story as an issue sent it, to be recorded in the archive."""

    article_id: int
    url: str
    title: str
    summary: str
    source: str
    published: datetime
    topics: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    numbers: tuple[str, ...] | None = None  # each number in the forms a search may name it; None: not known yet

    @classmethod
    def of(cls, article: Article, numbers: tuple[str, ...] | None = None) -> Story:
        """``article`` as its issue sent it; ``numbers`` when the program has worked them out."""
        return cls(
            article_id=article.id,
            url=article.url,
            title=article.title,
            summary=article.summary,
            source=article.source,
            published=article.published,
            topics=article.topics,
            jurisdictions=jurisdictions_of(article),
            numbers=numbers,
        )


@dataclass(frozen=True)
class Hit:
    """A story found: ``issue_id`` and ``article_id`` name it on its issue's page."""

    id: int
    issue_id: int
    article_id: int
    url: str
    title: str
    summary: str
    source: str
    published: datetime
    sent: datetime
    topics: tuple[str, ...]
    jurisdictions: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """What to look for; every part given must hold. ``start`` and ``end`` bound the story's date
    (start inclusive, end exclusive); ``before`` a row id, for the next page."""

    text: str = ""
    topic: str | None = None
    jurisdiction: str | None = None
    source: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 20
    before: int | None = None


def _document(story: Story) -> str:
    return written_one_way(
        story.title, story.summary, story.source, *story.topics, *story.jurisdictions, *(story.numbers or ())
    )


class Archive:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing -------------------------------------------------------------------------------------

    def record(self, issue_id: int, sent: datetime, stories: Sequence[Story]) -> int:
        """Record the stories of issue ``issue_id`` unless they are already there; how many were added."""
        with self.engine.begin() as conn:
            return self.record_in(conn, issue_id, sent, stories)

    def record_in(self, conn: Connection, issue_id: int, sent: datetime, stories: Sequence[Story]) -> int:
        if conn.execute(select(s.c.id).where(s.c.issue_id == issue_id).limit(1)).first() is not None:
            return 0
        rows = [
            {
                "issue_id": issue_id,
                "article_id": x.article_id,
                "url": x.url,
                "title": x.title,
                "summary": x.summary,
                "source": x.source,
                "published": x.published,
                "sent": sent,
                "topics": _listed(x.topics),
                "jurisdictions": _listed(x.jurisdictions),
                "numbers": None if x.numbers is None else " ".join(x.numbers),
                "document": _document(x),
            }
            for x in stories
        ]
        # Two `digest send --join` processes start the same issue at the same moment: both may find it
        # unrecorded, and the second one's rows are the same stories, already there.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        if rows:
            conn.execute(dialect.insert(s).on_conflict_do_nothing(index_elements=["issue_id", "article_id"]), rows)
        if any(x.numbers is None for x in stories) and not _pending(conn):
            pending = dialect.insert(t.meta).values(key=PENDING, value="pending")
            conn.execute(pending.on_conflict_do_nothing(index_elements=["key"]))
        return len(rows)

    def record_issue(self, conn: Connection, issue: Issue) -> int:
        """Record a stored issue's stories as the database knows them: their numbers are worked out later by
        the program (digest/archive.py). Issues.set_status calls this as an issue is published."""
        return self.record_in(conn, issue.id, issue.end, [Story.of(a) for a in issue.articles])

    def unnumbered(self, limit: int = 500) -> list[tuple[int, str, str]]:
        """(row id, title, summary) of stories copied in by the migration whose numbers are not worked out."""
        q = select(s.c.id, s.c.title, s.c.summary).where(s.c.numbers.is_(None)).order_by(s.c.id).limit(limit)
        with self.engine.begin() as conn:
            return [(r.id, r.title, r.summary) for r in conn.execute(q)]

    def numbered(self, numbers: dict[int, tuple[str, ...]]) -> None:
        """Set the numbers of the stories with these row ids, and their documents with them."""
        with self.engine.begin() as conn:
            for row in conn.execute(select(s).where(s.c.id.in_(list(numbers)))):
                story = _story(row._mapping)
                found = numbers[row.id]
                conn.execute(
                    update(s)
                    .where(s.c.id == row.id)
                    .values(numbers=" ".join(found), document=_document(replace(story, numbers=found)))
                )

    def pending(self) -> bool:
        """Whether some stories' numbers are still to be worked out."""
        with self.engine.begin() as conn:
            return _pending(conn)

    def done_numbering(self) -> None:
        with self.engine.begin() as conn:
            if conn.execute(select(s.c.id).where(s.c.numbers.is_(None)).limit(1)).first() is None:
                conn.execute(t.meta.delete().where(t.meta.c.key == PENDING))

    # -- reading -------------------------------------------------------------------------------------

    def search(self, query: Query) -> list[Hit]:
        """The stories that match ``query``, newest sent first, at most ``query.limit``."""
        where, params = self._filters(query)
        if where is None:
            return []
        words = written_one_way(query.text).split()[:MAX_WORDS]
        params["limit"] = max(1, min(query.limit, 500))
        shown = [c for c in s.columns if c.name not in ("document", "numbers")]
        columns = ", ".join(f"s.{c.name}" for c in shown)
        with self.engine.begin() as conn:
            if not words:
                sql = f"SELECT {columns} FROM archive_stories s WHERE {where} ORDER BY s.id DESC LIMIT :limit"
            elif conn.dialect.name == "sqlite":
                params["match"] = " ".join(f'"{w}"*' for w in words)
                sql = (
                    f"SELECT {columns} FROM archive_search f JOIN archive_stories s ON s.id = f.rowid "
                    f"WHERE archive_search MATCH :match AND {where} ORDER BY f.rowid DESC LIMIT :limit"
                )
            else:
                # A plan made for the query's own words: a generic plan (psycopg prepares a statement run
                # often) cannot tell a rare word, best found through the GIN index, from a common one, best
                # found by walking the newest rows, and walks the whole table for a word nobody wrote.
                conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
                params["match"] = " & ".join(f"{w}:*" for w in words)
                sql = (
                    f"SELECT {columns} FROM archive_stories s WHERE s.search_vector @@ to_tsquery('simple', :match) "
                    f"AND {where} ORDER BY s.id DESC LIMIT :limit"
                )
            stmt = text(sql).bindparams(*_typed(params)).columns(*shown)  # rows typed as the table's
            return [_hit(r._mapping) for r in conn.execute(stmt, params)]

    def _filters(self, query: Query) -> tuple[str | None, dict[str, Any]]:
        where, params = ["1 = 1"], dict[str, Any]()
        for name, code, column in (("topic", query.topic, "topics"), ("place", query.jurisdiction, "jurisdictions")):
            if code:
                code = code.strip().lower()
                if not CODE.fullmatch(code):
                    return None, {}  # no story has such a code
                where.append(f"s.{column} LIKE :{name}")
                params[name] = f"%,{code},%"
        if query.source:
            where.append("lower(s.source) = :source")
            params["source"] = query.source.strip().lower()
        if query.start is not None:
            where.append("s.published >= :start")
            params["start"] = query.start
        if query.end is not None:
            where.append("s.published < :end")
            params["end"] = query.end
        if query.before is not None:
            where.append("s.id < :before")
            params["before"] = query.before
        return " AND ".join(where), params

    def count(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(text("SELECT count(*) FROM archive_stories")).scalar_one())


def _pending(conn: Connection) -> bool:
    return conn.execute(select(t.meta.c.value).where(t.meta.c.key == PENDING)).first() is not None


def jurisdictions_of(article: Article) -> tuple[str, ...]:
    """The article's jurisdiction codes, once articles carry them (issue 23, points 1 and 2); none before."""
    codes: Sequence[str] = getattr(article, "jurisdictions", ())
    return tuple(codes)


def _typed(params: dict[str, Any]) -> list[Any]:
    """Date bounds go through the column's type (aware UTC in, naive UTC stored)."""
    return [bindparam(k, type_=s.c.published.type) for k in ("start", "end") if k in params]


def _told(row: Any) -> dict[str, Any]:
    """What a stored story and a found one both say: the article as the issue told it."""
    told = {k: row[k] for k in ("article_id", "url", "title", "summary", "source", "published")}
    return told | {"topics": _codes(row["topics"]), "jurisdictions": _codes(row["jurisdictions"])}


def _story(row: Any) -> Story:
    return Story(**_told(row), numbers=tuple((row["numbers"] or "").split()))


def _hit(row: Any) -> Hit:
    return Hit(id=row["id"], issue_id=row["issue_id"], sent=row["sent"], **_told(row))
