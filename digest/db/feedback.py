"""Bounces and complaints applied to deliveries and subscribers, each event once (feedback_events).

One transaction per event: record its key (the unique (source, key) makes a second try a no-op), find
the delivery it is about (by VERP token, then the original Message-ID, then the recipient's latest
delivery), record the feedback on it, and change the subscriber's status as the policy says. The policy
itself is digest/bounces/policy.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from subscribers import lifecycle
from subscribers.clock import now
from subscribers.model import Change, SubscriberStatus

from ..bounces.policy import IGNORED, RANK, Event, Outcome, Policy
from ..models import DeliveryStatus, Feedback
from . import tables as t

# The subscriber change a bounce policy's verdict stands for (subscribers.lifecycle decides what it may do).
_CHANGE = {SubscriberStatus.BOUNCED: Change.BOUNCE, SubscriberStatus.COMPLAINED: Change.COMPLAIN}

d, s, f = t.deliveries, t.subscribers, t.feedback_events
COMPLAINT_WARNING = 0.001


@dataclass(frozen=True)
class Bounces:
    """An issue's bounces by kind; `digest status`, `digest report` and the editor's pages show these three."""

    refused: int = 0  # refused for good by the mail server during the send (a 5xx reply)
    hard: int = 0  # delivered, then reported back as a hard bounce (bounce mailbox or webhook)
    soft: int = 0  # delivered, then reported back as a soft bounce

    @property
    def total(self) -> int:
        return self.refused + self.hard + self.soft


@dataclass(frozen=True)
class IssueFeedback:
    """What came back about one issue."""

    sent: int = 0
    bounces: Bounces = field(default_factory=Bounces)
    complaints: int = 0
    unsubscribes: int = 0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def too_many_complaints(self) -> bool:
        """Over 0.1 % of the issue's deliveries: mailbox providers start blocking senders near 0.3 %."""
        return self.complaint_rate > COMPLAINT_WARNING


class FeedbackStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """One connection for many ``apply`` calls (each still its own transaction): opening one per event
        costs more than the event."""
        with self.engine.connect() as conn:
            yield conn

    def apply(
        self, event: Event, policy: Policy, at: datetime | None = None, conn: Connection | None = None
    ) -> Outcome:
        """Apply ``event`` in one transaction (on ``conn`` when given); committed when this returns."""
        if conn is None:
            with self.engine.connect() as own:
                return self.apply(event, policy, at, own)
        with conn.begin():
            return self._apply(conn, event, policy, at or now())

    def _apply(self, conn: Connection, event: Event, policy: Policy, at: datetime) -> Outcome:
        dialect = postgresql if self.postgres else sqlite
        stmt = dialect.insert(f).values(
            source=event.source, key=event.key[:500], kind=event.label, detail=_detail(event), received_at=at
        )
        added = conn.execute(stmt.on_conflict_do_nothing(index_elements=["source", "key"]).returning(f.c.id))
        if added.first() is None:  # (rowcount is not reliable here on every driver)
            return Outcome("duplicate")
        if event.label in IGNORED:
            return Outcome(event.label)
        targets, _how = _match(conn, event)
        feedback = event.feedback
        if not targets or feedback is None:
            conn.execute(
                update(f).where(f.c.source == event.source, f.c.key == event.key[:500]).values(kind="unmatched")
            )
            return Outcome("unmatched")
        outcome = Outcome(event.label)
        for delivery_id, subscriber_id in targets:
            if delivery_id is not None:
                _record(conn, delivery_id, feedback, event, at)
                outcome.deliveries.append(delivery_id)
            run = _soft_run(conn, subscriber_id, delivery_id, at - timedelta(days=policy.soft_days))
            status = policy.status_after(feedback, run if feedback == Feedback.SOFT else 0)
            if status is None:
                continue
            moved = lifecycle.move(
                conn, subscriber_id, _CHANGE[status], source=event.source, detail=_detail(event), at=at
            )
            if moved is not None:
                outcome.marked.append((subscriber_id, moved.value))
        conn.execute(
            update(f)
            .where(f.c.source == event.source, f.c.key == event.key[:500])
            .values(delivery_id=targets[0][0], subscriber_id=targets[0][1])
        )
        return outcome

    def first_use(self, source: str, nonce: str) -> bool:
        """Record a webhook request's one-time token; False when it was seen before (a replay)."""
        dialect = postgresql if self.postgres else sqlite
        stmt = dialect.insert(f).values(source=source, key=nonce[:500], kind="nonce", received_at=now())
        with self.engine.begin() as conn:
            added = conn.execute(stmt.on_conflict_do_nothing(index_elements=["source", "key"]).returning(f.c.id))
            return added.first() is not None

    def recent(self, limit: int = 5) -> list[tuple[str, IssueFeedback]]:
        """(week, feedback) of the newest issues that went out, newest first."""
        i = t.issues
        q = (
            select(i.c.id, i.c.week)
            .where(i.c.status.in_(("sending", "sent")))
            .order_by(i.c.period_end.desc())
            .limit(limit)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(q).all()
        return [(r.week, self.issue(r.id)) for r in rows]

    def issue(self, issue_id: int) -> IssueFeedback:
        """Sent, bounces (refused at send, hard, soft), complaints and unsubscribes of one issue, in one query:
        the one count of bounces. An unsubscribe counts for the last issue the subscriber was sent before
        leaving."""
        later = d.alias("later")
        left = and_(
            s.c.status == SubscriberStatus.UNSUBSCRIBED,
            s.c.unsubscribed_at >= d.c.updated_at,
            ~exists().where(later.c.subscriber_id == d.c.subscriber_id, later.c.issue_id > d.c.issue_id),
        )
        sent = d.c.status == DeliveryStatus.SENT
        query = (
            select(
                func.count().filter(sent),
                func.count().filter(d.c.status == DeliveryStatus.FAILED, d.c.reply_code >= 500),
                func.count().filter(sent, d.c.feedback == Feedback.HARD),
                func.count().filter(sent, d.c.feedback == Feedback.SOFT),
                func.count().filter(sent, d.c.feedback == Feedback.COMPLAINT),
                func.count().filter(sent, left),
            )
            .select_from(d.join(s, s.c.id == d.c.subscriber_id))
            .where(d.c.issue_id == issue_id)
        )
        with self.engine.begin() as conn:
            n = [int(x) for x in conn.execute(query).one()]
        return IssueFeedback(n[0], Bounces(n[1], n[2], n[3]), n[4], n[5])


def _detail(event: Event) -> str | None:
    text = " ".join(x for x in (event.code, event.text) if x)
    return text[:2000] or None


def _match(conn: Connection, event: Event) -> tuple[list[tuple[int | None, int]], str]:
    """(delivery id or None, subscriber id) pairs the event is about, and how they were found."""
    if event.ref is not None:
        ref = event.ref
        row = conn.execute(
            select(d.c.id).where(d.c.issue_id == ref.issue_id, d.c.subscriber_id == ref.subscriber_id)
        ).first()
        if row is not None:
            return [(row.id, ref.subscriber_id)], "verp"
        if conn.execute(select(s.c.id).where(s.c.id == ref.subscriber_id)).first() is not None:
            return [(None, ref.subscriber_id)], "verp"
    if event.message_ids:
        rows = conn.execute(select(d.c.id, d.c.subscriber_id).where(d.c.message_id.in_(event.message_ids))).all()
        if rows:
            return [(r.id, r.subscriber_id) for r in rows[:1]], "message-id"
    found: list[tuple[int | None, int]] = []
    for email in event.recipients:
        sub = conn.execute(select(s.c.id).where(func.lower(s.c.email) == email.lower())).first()
        if sub is None:
            continue
        last = conn.execute(
            select(func.max(d.c.id)).where(d.c.subscriber_id == sub.id, d.c.status == DeliveryStatus.SENT)
        ).scalar()
        found.append((last, sub.id))
    return found, "recipient" if found else ""


def _record(conn: Connection, delivery_id: int, feedback: Feedback, event: Event, at: datetime) -> None:
    """The feedback on the delivery, unless it already holds a stronger one (a complaint beats a bounce)."""
    current = conn.execute(select(d.c.feedback).where(d.c.id == delivery_id)).scalar()
    if current is not None and RANK[Feedback(current)] > RANK[feedback]:
        return
    conn.execute(
        update(d)
        .where(d.c.id == delivery_id)
        .values(
            feedback=feedback.value,
            feedback_code=event.code[:20] or None,
            feedback_text=event.text[:1000] or None,
            feedback_at=at,
        )
    )


def _soft_run(conn: Connection, subscriber_id: int, delivery_id: int | None, since: datetime) -> int:
    """Soft bounces in a row, counting back from ``delivery_id`` over the deliveries sent since ``since``."""
    if delivery_id is None:
        return 0
    rows = conn.execute(
        select(d.c.feedback)
        .where(
            d.c.subscriber_id == subscriber_id,
            d.c.id <= delivery_id,
            d.c.status == DeliveryStatus.SENT,
            d.c.updated_at >= since,
        )
        .order_by(d.c.id.desc())
    ).scalars()
    run = 0
    for feedback in rows:
        if feedback != Feedback.SOFT:
            break
        run += 1
    return run
