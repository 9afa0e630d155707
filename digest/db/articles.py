"""Stored articles: one row per story, deduplicated by GUID and canonical URL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select

from subscribers.clock import now

from ..models import Article, NewArticle
from . import tables as t

a = t.articles

_KNOWN = select(a.c.id).where(or_(a.c.guid == bindparam("guid"), a.c.canonical_url == bindparam("canonical"))).limit(1)
_BETWEEN = (
    select(a)
    .where(
        a.c.published > bindparam("start", type_=a.c.published.type),
        a.c.published <= bindparam("end", type_=a.c.published.type),
    )
    .order_by(a.c.published.desc(), a.c.id.desc())
)
_COUNT = select(func.count()).select_from(a)
_UNREAD = (
    select(a.c.id, a.c.title, a.c.summary, a.c.source)
    .where(a.c.jurisdictions.is_(None))
    .order_by(a.c.id)
    .limit(bindparam("limit"))
)
_SET_JURISDICTIONS = a.update().where(a.c.id == bindparam("aid")).values(jurisdictions=bindparam("codes"))


class Articles:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known(self, guid: str, canonical_url: str) -> bool:
        return self.known_each([(guid, canonical_url)])[0]

    def known_each(self, keys: Sequence[tuple[str, str]]) -> list[bool]:
        """For each (guid, canonical URL): whether an article with that GUID or canonical URL is stored."""
        with self.engine.begin() as conn:
            return [
                conn.execute(_KNOWN, {"guid": guid, "canonical": canonical}).first() is not None
                for guid, canonical in keys
            ]

    def add(self, article: NewArticle) -> bool:
        """Store an article unless its GUID or canonical URL is already there; True when added."""
        return self.add_each([article])[0]

    def add_each(self, articles: Sequence[NewArticle]) -> list[bool]:
        """Store each article unless its GUID or canonical URL is already there (or earlier in
        ``articles``), all in one transaction; for each, True when added."""
        with self.engine.begin() as conn:
            return [_add(conn, article) for article in articles]

    def between(self, start: datetime, end: datetime) -> list[Article]:
        """Articles published after ``start`` up to ``end``, newest first."""
        with self.engine.begin() as conn:
            return [_article(r._mapping) for r in conn.execute(_BETWEEN, {"start": start, "end": end})]

    def unread(self, limit: int = 1000) -> list[tuple[int, str, str, str]]:
        """(id, title, summary, source) of articles stored before their jurisdictions were read."""
        with self.engine.begin() as conn:
            rows = conn.execute(_UNREAD, {"limit": limit}).all()
        return [(r.id, r.title, r.summary, r.source) for r in rows]

    def set_jurisdictions(self, found: Sequence[tuple[int, Sequence[str]]]) -> None:
        """Store each (article id, codes) pair; an empty list records that the article names none."""
        if found:
            with self.engine.begin() as conn:
                conn.execute(_SET_JURISDICTIONS, [{"aid": aid, "codes": ",".join(codes)} for aid, codes in found])

    def count(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(_COUNT).scalar_one())


def _article(row: Any) -> Article:
    return Article(
        id=row["id"],
        guid=row["guid"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        source=row["source"],
        published=row["published"],
        summary=row["summary"],
        topics=tuple(x for x in row["topics"].split(",") if x),
        words=row["words"],
        jurisdictions=tuple(x for x in (row["jurisdictions"] or "").split(",") if x),
    )


def _add(conn: Connection, article: NewArticle) -> bool:
    if conn.execute(_KNOWN, {"guid": article.guid, "canonical": article.canonical_url}).first() is not None:
        return False
    conn.execute(
        a.insert().values(
            guid=article.guid,
            canonical_url=article.canonical_url,
            url=article.url,
            title=article.title,
            source=article.source,
            published=article.published,
            first_seen=now(),
            summary=article.summary,
            topics=",".join(article.topics),
            words=article.words,
            jurisdictions=",".join(article.jurisdictions),
        )
    )
    return True
