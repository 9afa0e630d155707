"""Stored clicks on /r/ links (one row per request, sorted into readers' and scanners' by digest.issue.clicks)
and opens (one row per fetch of the image at the end of a message)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, delete, func, select

from ..models import Click
from . import tables as t

c = t.clicks
_INSERT = c.insert().values(
    issue_id=bindparam("b_issue"),
    article_id=bindparam("b_article"),
    subscriber_id=bindparam("b_subscriber"),
    clicked_at=bindparam("b_at", type_=c.c.clicked_at.type),
    head=bindparam("b_head"),
    scanner_agent=bindparam("b_scanner"),
)
_OF_ISSUE = (
    select(c.c.article_id, c.c.subscriber_id, c.c.clicked_at, c.c.head, c.c.scanner_agent)
    .where(c.c.issue_id == bindparam("b_issue"))
    .order_by(c.c.clicked_at, c.c.id)
)
_BEFORE = delete(c).where(c.c.clicked_at < bindparam("b_before", type_=c.c.clicked_at.type))
o = t.opens
_OPEN = o.insert().values(
    issue_id=bindparam("b_issue"),
    subscriber_id=bindparam("b_subscriber"),
    opened_at=bindparam("b_at", type_=o.c.opened_at.type),
)
_OPENS = select(func.count(), func.count(o.c.subscriber_id.distinct())).where(o.c.issue_id == bindparam("b_issue"))
_OPENS_BEFORE = delete(o).where(o.c.opened_at < bindparam("b_before", type_=o.c.opened_at.type))


class Clicks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, issue_id: int, click: Click) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _INSERT,
                {
                    "b_issue": issue_id,
                    "b_article": click.article_id,
                    "b_subscriber": click.subscriber_id,
                    "b_at": click.at,
                    "b_head": click.head,
                    "b_scanner": click.scanner_agent,
                },
            )

    def of_issue(self, issue_id: int) -> list[Click]:
        with self.engine.begin() as conn:
            return [
                Click(r.article_id, r.subscriber_id, r.clicked_at, bool(r.head), bool(r.scanner_agent))
                for r in conn.execute(_OF_ISSUE, {"b_issue": issue_id})
            ]

    def record_open(self, issue_id: int, subscriber_id: int | None, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(_OPEN, {"b_issue": issue_id, "b_subscriber": subscriber_id, "b_at": at})

    def opens(self, issue_id: int) -> tuple[int, int]:
        """(opens, distinct readers among them) of an issue."""
        with self.engine.begin() as conn:
            n, readers = conn.execute(_OPENS, {"b_issue": issue_id}).one()
        return int(n), int(readers)

    def forget_before(self, before: datetime) -> int:
        """Retention: delete the click and open rows older than ``before``; returns how many."""
        with self.engine.begin() as conn:
            done = conn.execute(_BEFORE, {"b_before": before}).rowcount or 0
            return int(done) + int(conn.execute(_OPENS_BEFORE, {"b_before": before}).rowcount or 0)
