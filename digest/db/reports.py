"""What one issue's report reads: its deliveries (outcomes, times) and the readers who left after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, case, func, select

from subscribers.model import SubscriberStatus

from ..models import DeliveryStatus
from . import tables as t

d, s, i = t.deliveries, t.subscribers, t.issues
_ISSUE = d.c.issue_id == bindparam("b_issue")
_SENT = d.c.status == DeliveryStatus.SENT
_FAILED = d.c.status == DeliveryStatus.FAILED


def _n(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


_OUTCOMES = select(
    func.count(),
    _n(_SENT),
    _n(and_(_SENT, d.c.attempts > 1)),
    _n(_FAILED),
    _n(d.c.status.in_((DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING))),
    _n(d.c.status == DeliveryStatus.SKIPPED),
    func.max(d.c.updated_at),
).where(_ISSUE)
_DELIVERED = select(d.c.subscriber_id, d.c.updated_at).where(_ISSUE, _SENT)
_NEXT_START = select(func.min(i.c.send_started_at)).where(
    i.c.send_started_at > bindparam("b_start", type_=i.c.send_started_at.type)
)
_TIMES = select(i.c.send_started_at, i.c.sent_at).where(i.c.id == bindparam("b_issue"))
_LEFT = (
    select(func.count())
    .select_from(d.join(s, s.c.id == d.c.subscriber_id))
    .where(
        _ISSUE,
        _SENT,
        s.c.status == SubscriberStatus.UNSUBSCRIBED,
        s.c.unsubscribed_at >= bindparam("b_from", type_=s.c.unsubscribed_at.type),
        s.c.unsubscribed_at < bindparam("b_until", type_=s.c.unsubscribed_at.type),
    )
)


@dataclass(frozen=True)
class Outcomes:
    """The deliveries of one issue, by outcome."""

    recipients: int = 0  # rows queued (skipped ones included)
    delivered: int = 0  # accepted by the mail server
    retried: int = 0  # delivered after one or more deferrals (4xx, dropped connection)
    failed: int = 0  # refused for good or out of retries (bounces refused at send included)
    waiting: int = 0  # pending, deferred or in flight
    skipped: int = 0  # nothing in the issue for the reader's topics
    last_delivery: datetime | None = None


class Reports:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def outcomes(self, issue_id: int) -> Outcomes:
        with self.engine.begin() as conn:
            row = conn.execute(_OUTCOMES, {"b_issue": issue_id}).one()
        n = [int(x) for x in row[:6]]
        return Outcomes(n[0], n[1], n[2], n[3], n[4], n[5], last_delivery=row[6])

    def send_times(self, issue_id: int) -> tuple[datetime | None, datetime | None]:
        """When the issue's send started and finished."""
        with self.engine.begin() as conn:
            row = conn.execute(_TIMES, {"b_issue": issue_id}).first()
        return (row[0], row[1]) if row else (None, None)

    def delivered_at(self, issue_id: int) -> dict[int, datetime]:
        """When each reader's copy was accepted."""
        with self.engine.begin() as conn:
            return {int(r.subscriber_id): r.updated_at for r in conn.execute(_DELIVERED, {"b_issue": issue_id})}

    def left_after(self, issue_id: int, start: datetime, until: datetime) -> int:
        """Readers of this issue who unsubscribed after its send started and before the next issue's started
        (or ``until``)."""
        with self.engine.begin() as conn:
            following = conn.execute(_NEXT_START, {"b_start": start}).scalar()
            end = following or until
            return int(conn.execute(_LEFT, {"b_issue": issue_id, "b_from": start, "b_until": end}).scalar() or 0)
