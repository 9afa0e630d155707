"""Stored clicks on /r/ links: one row per request, sorted into readers' and scanners' by digest.clicks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, delete, select

from ..clicks import Click
from . import tables as t

c = t.clicks
_INSERT = c.insert().values(issue_id=bindparam("b_issue"), article_id=bindparam("b_article"),
                            subscriber_id=bindparam("b_subscriber"),
                            clicked_at=bindparam("b_at", type_=c.c.clicked_at.type),
                            head=bindparam("b_head"), scanner_agent=bindparam("b_scanner"))
_OF_ISSUE = (select(c.c.article_id, c.c.subscriber_id, c.c.clicked_at, c.c.head, c.c.scanner_agent)
             .where(c.c.issue_id == bindparam("b_issue")).order_by(c.c.clicked_at, c.c.id))
_BEFORE = delete(c).where(c.c.clicked_at < bindparam("b_before", type_=c.c.clicked_at.type))


class Clicks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, issue_id: int, click: Click) -> None:
        with self.engine.begin() as conn:
            conn.execute(_INSERT, {"b_issue": issue_id, "b_article": click.article_id,
                                   "b_subscriber": click.subscriber_id, "b_at": click.at, "b_head": click.head,
                                   "b_scanner": click.scanner_agent})

    def of_issue(self, issue_id: int) -> list[Click]:
        with self.engine.begin() as conn:
            return [Click(r.article_id, r.subscriber_id, r.clicked_at, bool(r.head), bool(r.scanner_agent))
                    for r in conn.execute(_OF_ISSUE, {"b_issue": issue_id})]

    def forget_before(self, before: datetime) -> int:
        """Retention: delete the click rows older than ``before``; returns how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(_BEFORE, {"b_before": before}).rowcount or 0)
