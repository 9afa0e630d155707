"""What the editor's dashboard reads: the audience's dates and the articles stored per source."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select

from . import tables as t

s, a = t.subscribers, t.articles
_AUDIENCE = select(s.c.created_at, s.c.confirmed_at, s.c.unsubscribed_at, s.c.bounced_at, s.c.status)
_ARTICLES = select(a.c.source, a.c.first_seen).where(a.c.first_seen >= bindparam("b_since", type_=a.c.first_seen.type))


class Dashboard:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def audience(self) -> list[Any]:
        """(created_at, confirmed_at, unsubscribed_at, bounced_at, status) of every subscriber."""
        with self.engine.begin() as conn:
            return list(conn.execute(_AUDIENCE))

    def articles_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(source, first seen) of each article stored since ``since``."""
        with self.engine.begin() as conn:
            return [(r.source, r.first_seen) for r in conn.execute(_ARTICLES, {"b_since": since})]
