"""The database: sources' fetch state, articles, issues and deliveries (subscribers live in subscribers/)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, or_, select, update
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from .db import tables as t
from .db.migrate import prepare
from .editing import Edit
from .errors import ConfigError, DigestError
from .models import Article, Issue, Section


def now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str, pooled: bool = True) -> Engine:
    """An engine for ``url``; ``pooled=False`` closes each connection when it is returned."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, poolclass=NullPool)
            event.listen(engine, "connect", _sqlite_pragmas)
        elif not pooled:
            engine = create_engine(url, poolclass=NullPool)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError("environment", "DIGEST_DATABASE_URL", f"cannot use {url!r}: {exc}") from None
    return engine


class Store:
    """All reads and writes of the library go through here (or subscribers.store)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            prepare(self.engine)
        except OperationalError as exc:
            raise DigestError(
                f"cannot open the database {url}: {exc.orig}. Check DIGEST_DATABASE_URL."
            ) from None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- settings kept in the database ------------------------------------------------------

    def secret_key(self, configured: str | None) -> str:
        """The configured key, or one made on first use and kept in the database."""
        if configured:
            return configured
        with self.begin() as conn:
            row = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "secret_key")).first()
            if row:
                return str(row[0])
            key = secrets.token_urlsafe(32)
            conn.execute(t.meta.insert().values(key="secret_key", value=key))
            return key

    # -- sources -----------------------------------------------------------------------------

    def source_state(self, url: str) -> tuple[str | None, str | None]:
        with self.begin() as conn:
            q = select(t.sources.c.etag, t.sources.c.last_modified).where(t.sources.c.url == url)
            row = conn.execute(q).first()
        return (row[0], row[1]) if row else (None, None)

    def record_fetch(self, url: str, name: str, *, error: str = "", etag: str | None = None,
                     last_modified: str | None = None) -> None:
        when = now()
        values: dict[str, Any] = {"name": name, "last_fetch": when, "last_error": error or None}
        if not error:
            values.update(last_success=when)
            if etag is not None or last_modified is not None:
                values.update(etag=etag, last_modified=last_modified)
        with self.begin() as conn:
            done = conn.execute(update(t.sources).where(t.sources.c.url == url).values(**values)).rowcount
            if not done:
                conn.execute(t.sources.insert().values(url=url, **values))

    def source_rows(self) -> list[dict[str, Any]]:
        with self.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(select(t.sources).order_by(t.sources.c.name))]

    # -- articles ----------------------------------------------------------------------------

    def known(self, guid: str, canonical_url: str) -> bool:
        with self.begin() as conn:
            q = select(t.articles.c.id).where(
                or_(t.articles.c.guid == guid, t.articles.c.canonical_url == canonical_url)
            )
            return conn.execute(q.limit(1)).first() is not None

    def add_article(self, article: Article) -> bool:
        """Store an article unless its GUID or canonical URL is already there; True when added."""
        with self.begin() as conn:
            q = select(t.articles.c.id).where(
                or_(t.articles.c.guid == article.guid, t.articles.c.canonical_url == article.canonical_url)
            )
            if conn.execute(q.limit(1)).first() is not None:
                return False
            conn.execute(t.articles.insert().values(
                guid=article.guid, canonical_url=article.canonical_url, url=article.url, title=article.title,
                source=article.source, published=article.published, first_seen=now(), summary=article.summary,
                topics=",".join(article.topics),
            ))
            return True

    def articles_between(self, start: datetime, end: datetime) -> list[Article]:
        q = (select(t.articles).where(t.articles.c.published > start, t.articles.c.published <= end)
             .order_by(t.articles.c.published.desc(), t.articles.c.id.desc()))
        with self.begin() as conn:
            return [_article(r._mapping) for r in conn.execute(q)]

    def article_count(self) -> int:
        with self.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(t.articles)).scalar_one())

    # -- issues ------------------------------------------------------------------------------

    def issue(self, week: str | None = None, issue_id: int | None = None) -> Issue | None:
        q = select(t.issues)
        q = q.where(t.issues.c.id == issue_id) if issue_id is not None else q.where(t.issues.c.week == week)
        with self.begin() as conn:
            row = conn.execute(q).first()
        return _issue(row._mapping) if row else None

    def latest_issue(self, statuses: tuple[str, ...] = ("sending", "sent")) -> Issue | None:
        q = select(t.issues).where(t.issues.c.status.in_(statuses)).order_by(t.issues.c.period_end.desc())
        with self.begin() as conn:
            row = conn.execute(q.limit(1)).first()
        return _issue(row._mapping) if row else None

    def save_draft(self, issue: Issue) -> Issue:
        """Insert or replace the week's draft; an issue that started sending is left as it is."""
        values = dict(
            subject=issue.subject, preheader=issue.preheader, period_start=issue.start, period_end=issue.end,
            content=json.dumps(_issue_content(issue)), built_at=now(),
        )
        with self.begin() as conn:
            row = conn.execute(select(t.issues.c.id, t.issues.c.status, t.issues.c.subject, t.issues.c.content)
                               .where(t.issues.c.week == issue.week)).first()
            if row is None:
                inserted = conn.execute(t.issues.insert().values(week=issue.week, status="draft", **values))
                issue_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            elif row.status not in ("draft", "skipped"):
                raise DigestError(f"issue {issue.week} has already started sending; it is not rebuilt")
            else:
                issue_id = row.id
                changed = (row.subject, row.content) != (values["subject"], values["content"])
                extra: dict[str, Any] = {"approved_at": None} if changed else {}  # approval is of the content
                conn.execute(update(t.issues).where(t.issues.c.id == issue_id)
                             .values(status="draft", **extra, **values))
        saved = self.issue(issue_id=issue_id)
        assert saved is not None
        return saved

    def delete_draft(self, week: str) -> None:
        with self.begin() as conn:
            conn.execute(t.issues.delete().where(t.issues.c.week == week, t.issues.c.status == "draft"))

    def set_issue_status(self, issue_id: int, status: str) -> None:
        values: dict[str, Any] = {"status": status}
        if status == "sending":
            values["send_started_at"] = now()
        if status == "sent":
            values["sent_at"] = now()
        with self.begin() as conn:
            conn.execute(update(t.issues).where(t.issues.c.id == issue_id).values(**values))

    def issues(self, statuses: tuple[str, ...] = ("sending", "sent")) -> list[Issue]:
        q = select(t.issues).where(t.issues.c.status.in_(statuses)).order_by(t.issues.c.period_end.desc())
        with self.begin() as conn:
            return [_issue(r._mapping) for r in conn.execute(q)]



    # -- scheduling: approval, skipped weeks, delivery counts, small markers -------------------

    def approve(self, issue_id: int) -> None:
        with self.begin() as conn:
            conn.execute(update(t.issues).where(t.issues.c.id == issue_id).values(approved_at=now()))

    def approved_at(self, issue_id: int) -> datetime | None:
        with self.begin() as conn:
            value = conn.execute(select(t.issues.c.approved_at).where(t.issues.c.id == issue_id)).scalar()
        return value if isinstance(value, datetime) else None

    # -- editors' overrides ------------------------------------------------------------------

    def edits(self, week: str) -> list[Edit]:
        q = select(t.issue_edits).where(t.issue_edits.c.week == week).order_by(t.issue_edits.c.id)
        with self.begin() as conn:
            return [Edit(kind=r.kind, target=r.target, value=r.value) for r in conn.execute(q)]

    def set_edit(self, week: str, edit: Edit) -> None:
        """Record an override; one per (kind, target): a newer one replaces it. Pin and order are one per issue."""
        key = (t.issue_edits.c.week == week) & (t.issue_edits.c.kind == edit.kind)
        if edit.kind not in ("pin", "order", "subject", "preheader"):
            key = key & (t.issue_edits.c.target == edit.target)
        with self.begin() as conn:
            conn.execute(t.issue_edits.delete().where(key))
            conn.execute(t.issue_edits.insert().values(week=week, kind=edit.kind, target=edit.target,
                                                       value=edit.value, created_at=now()))

    def clear_edit(self, week: str, kind: str, target: str = "") -> int:
        q = t.issue_edits.delete().where(t.issue_edits.c.week == week, t.issue_edits.c.kind == kind)
        if target:
            q = q.where(t.issue_edits.c.target == target)
        with self.begin() as conn:
            return int(conn.execute(q).rowcount)

    def first_skipped_start(self) -> datetime | None:
        """Where the oldest skipped week began: before any issue is sent, its articles still roll forward."""
        q = select(func.min(t.issues.c.period_start)).where(t.issues.c.status == "skipped")
        with self.begin() as conn:
            value = conn.execute(q).scalar()
        return value if isinstance(value, datetime) else None

    def delivery_counts(self, issue_id: int) -> dict[str, int]:
        q = (select(t.deliveries.c.status, func.count()).where(t.deliveries.c.issue_id == issue_id)
             .group_by(t.deliveries.c.status))
        with self.begin() as conn:
            return {str(status): int(n) for status, n in conn.execute(q)}

    def get_meta(self, key: str) -> str | None:
        with self.begin() as conn:
            value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        with self.begin() as conn:
            if not conn.execute(update(t.meta).where(t.meta.c.key == key).values(value=value)).rowcount:
                conn.execute(t.meta.insert().values(key=key, value=value))


def _article(row: Any) -> Article:
    return Article(
        id=row["id"], guid=row["guid"], url=row["url"], canonical_url=row["canonical_url"], title=row["title"],
        source=row["source"], published=row["published"], summary=row["summary"],
        topics=tuple(x for x in row["topics"].split(",") if x),
    )


def _issue_content(issue: Issue) -> dict[str, Any]:
    def art(a: Article) -> dict[str, Any]:
        d = asdict(a)
        d["published"] = a.published.isoformat()
        return d

    return {
        "title": issue.title,
        "overflow": issue.overflow,
        "sections": [{"topic": s.topic, "name": s.name, "articles": [art(a) for a in s.articles]}
                     for s in issue.sections],
    }


def _issue(row: Any) -> Issue:
    content = json.loads(row["content"])
    sections = tuple(
        Section(topic=s["topic"], name=s["name"], articles=tuple(
            Article(**{**a, "published": datetime.fromisoformat(a["published"]), "topics": tuple(a["topics"])})
            for a in s["articles"]
        ))
        for s in content["sections"]
    )
    return Issue(
        id=row["id"], week=row["week"], title=content.get("title", ""), subject=row["subject"],
        preheader=row["preheader"], start=row["period_start"], end=row["period_end"], sections=sections,
        status=row["status"], overflow=content.get("overflow", 0),
    )
