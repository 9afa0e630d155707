"""Bounces and complaints applied to deliveries and subscribers, each event once (feedback_events).

One transaction per event: record its key (the unique (source, key) makes a second try a no-op), find
the delivery it is about (by our signed VERP token, else the original Message-ID of a message we sent;
by the recipient only with [bounces] match_recipient, and then only a recipient of that Message-ID),
record the feedback and its reason on it, and change the subscriber's status as the policy says. A
refusal about our side is recorded as kind "sender" and changes nobody. The policy itself is
digest/bounces/policy.py; this module knows it, and the events, only by the shapes it declares.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from subscribers import lifecycle
from subscribers.clock import now
from subscribers.model import Change, SubscriberStatus

from ..models import FEEDBACK_RANK, DeliveryStatus, Feedback
from . import tables as t
from .deliveries import fold_outcomes

# The subscriber change a bounce policy's verdict stands for (subscribers.lifecycle decides what it may do).
_CHANGE = {SubscriberStatus.BOUNCED: Change.BOUNCE, SubscriberStatus.COMPLAINED: Change.COMPLAIN}

d, s, f = t.deliveries, t.subscribers, t.feedback_events
COMPLAINT_WARNING = 0.001


REFUSAL_DAYS = 7  # sender-side refusals older than this no longer raise the operator's alert


class DeliveryNamed(Protocol):
    """What a VERP token names (digest.bounces.verp.DeliveryRef)."""

    @property
    def issue_id(self) -> int: ...

    @property
    def subscriber_id(self) -> int: ...


class BounceEvent(Protocol):
    """A bounce or complaint as this store reads it (digest.bounces.policy.BounceEvent has this shape)."""

    @property
    def source(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def ref(self) -> DeliveryNamed | None: ...
    @property
    def message_ids(self) -> tuple[str, ...]: ...
    @property
    def recipients(self) -> tuple[str, ...]: ...
    @property
    def reason(self) -> str: ...
    @property
    def authenticated(self) -> bool: ...
    @property
    def feedback(self) -> Feedback | None: ...
    @property
    def about_sender(self) -> bool: ...
    @property
    def provider(self) -> str: ...


class StorableEvent(BounceEvent, Protocol):
    def stored(self) -> BounceEvent:
        """The event with what the database cannot hold (NUL characters) taken out."""
        ...


class Rules(Protocol):
    """The bounce policy as this store applies it (digest.bounces.policy.Policy has this shape)."""

    @property
    def soft_days(self) -> int: ...
    @property
    def match_recipient(self) -> bool: ...

    def ignores(self, label: str) -> bool: ...

    def counts_soft(self, reason: str | None) -> bool: ...

    def status_after(self, feedback: Feedback, soft_run: int, reason: str = "") -> SubscriberStatus | None: ...


@dataclass
class Applied:
    """What applying one bounce or complaint did."""

    label: str  # hard, soft, complaint, autoreply, other; or sender, unmatched, duplicate
    deliveries: list[int] = field(default_factory=list)
    marked: list[tuple[int, str]] = field(default_factory=list)  # (subscriber id, new status)


@dataclass(frozen=True)
class Refusal:
    """Mail a provider refused for a reason on our side (blocked IP, spam, size, rate…), grouped."""

    provider: str  # the recipients' domain
    reason: str
    code: str
    count: int
    last_at: datetime
    diagnostic: str  # the latest one's text


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
    by_reason: tuple[tuple[str, str, int], ...] = ()  # (feedback, reason or "", deliveries)

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
        self, event: StorableEvent, policy: Rules, at: datetime | None = None, conn: Connection | None = None
    ) -> Applied:
        """Apply ``event`` in one transaction (on ``conn`` when given); committed when this returns."""
        if conn is None:
            with self.engine.connect() as own:
                return self.apply(event, policy, at, own)
        with conn.begin():
            return self._apply(conn, event.stored(), policy, at or now())

    def _apply(self, conn: Connection, event: BounceEvent, policy: Rules, at: datetime) -> Applied:
        dialect = postgresql if self.postgres else sqlite
        stmt = dialect.insert(f).values(
            source=event.source,
            key=event.key[:500],
            kind=event.label,
            detail=_detail(event),
            received_at=at,
            reason=event.reason[:20] or None,
            provider=event.provider or None,
            code=event.code[:20] or None,
        )
        added = conn.execute(stmt.on_conflict_do_nothing(index_elements=["source", "key"]).returning(f.c.id))
        if added.first() is None:  # (rowcount is not reliable here on every driver)
            return Applied("duplicate")
        if policy.ignores(event.label):
            return Applied(event.label)
        targets, _how = _match(conn, event, policy.match_recipient)
        feedback = event.feedback
        this = and_(f.c.source == event.source, f.c.key == event.key[:500])
        if not targets or feedback is None:
            conn.execute(update(f).where(this).values(kind="unmatched"))
            return Applied("unmatched")
        if event.about_sender:  # our IP, domain, content or rate: the reader is not at fault
            conn.execute(update(f).where(this).values(kind="sender"))
        outcome = Applied("sender" if event.about_sender else event.label)
        for delivery_id, subscriber_id in targets:
            if delivery_id is not None:
                _record(conn, delivery_id, feedback, event, at)
                outcome.deliveries.append(delivery_id)
            if event.about_sender:
                continue
            counted = feedback == Feedback.SOFT and policy.counts_soft(event.reason)
            since = at - timedelta(days=policy.soft_days)
            run = _soft_run(conn, subscriber_id, delivery_id, since, policy.counts_soft) if counted else 0
            status = policy.status_after(feedback, run, event.reason)
            if status is None:
                continue
            moved = lifecycle.move(
                conn, subscriber_id, _CHANGE[status], source=event.source, detail=_detail(event), at=at
            )
            if moved is not None:
                outcome.marked.append((subscriber_id, moved.value))
        conn.execute(update(f).where(this).values(delivery_id=targets[0][0], subscriber_id=targets[0][1]))
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
        reasons = (
            select(d.c.feedback, func.coalesce(d.c.feedback_reason, ""), func.count())
            .where(d.c.issue_id == issue_id, d.c.status == DeliveryStatus.SENT, d.c.feedback.is_not(None))
            .group_by(d.c.feedback, d.c.feedback_reason)
        )
        with self.engine.begin() as conn:
            n = [int(x) for x in conn.execute(query).one()]
            by_reason = tuple(sorted((str(k), str(r), int(c)) for k, r, c in conn.execute(reasons)))
        return IssueFeedback(n[0], Bounces(n[1], n[2], n[3]), n[4], n[5], by_reason)

    def refusals(self, since: datetime | None = None, limit: int = 20) -> list[Refusal]:
        """Refusals about our side since ``since`` (default: the last REFUSAL_DAYS days), per provider,
        reason and code, the most frequent first."""
        since = since or now() - timedelta(days=REFUSAL_DAYS)
        grouped = (
            select(
                func.coalesce(f.c.provider, ""),
                func.coalesce(f.c.reason, ""),
                func.coalesce(f.c.code, ""),
                func.count(),
                func.max(f.c.received_at),
                func.max(f.c.id),
            )
            .where(f.c.kind == "sender", f.c.received_at >= since)
            .group_by(f.c.provider, f.c.reason, f.c.code)
            .order_by(func.count().desc())
            .limit(limit)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(grouped).all()
            found = conn.execute(select(f.c.id, f.c.detail).where(f.c.id.in_([r[5] for r in rows])))
            texts = {int(i): str(t or "") for i, t in found}
        return [Refusal(str(p), str(r), str(c), int(n), last, str(texts.get(i) or "")) for p, r, c, n, last, i in rows]


def _detail(event: BounceEvent) -> str | None:
    text = " ".join(x for x in (event.code, event.text) if x)
    return text[:2000] or None


def _match(conn: Connection, event: BounceEvent, by_recipient: bool) -> tuple[list[tuple[int | None, int]], str]:
    """(delivery id or None, subscriber id) pairs the event is about, and how they were found.

    Only what a stranger cannot make up ties a report to a subscriber: our signed VERP token, or the
    Message-ID of a message we sent them. A report's recipients alone tie it to nobody: with
    ``by_recipient`` they choose among the deliveries of the Message-ID it returns, never beyond them.
    """
    if event.ref is not None:
        ref = event.ref
        row = conn.execute(
            select(d.c.id).where(d.c.issue_id == ref.issue_id, d.c.subscriber_id == ref.subscriber_id)
        ).first()
        if row is not None:
            return [(row.id, ref.subscriber_id)], "verp"
        # The delivery is gone (retention): the token still names the subscriber, if the one with that id now
        # was on the list when the issue went out; a later one is someone else, and the token died with its own.
        i = t.issues
        went_out = func.coalesce(i.c.sent_at, i.c.send_started_at, i.c.built_at)
        known = (
            select(s.c.id)
            .join(i, i.c.id == ref.issue_id)
            .where(s.c.id == ref.subscriber_id, s.c.created_at <= went_out)
        )
        if conn.execute(known).first() is not None:
            return [(None, ref.subscriber_id)], "verp"
    ids = [i[:500] for i in event.message_ids if i][:20]
    if not ids:
        return _by_recipient(conn, event) if event.authenticated else ([], "")
    fold_outcomes(conn)  # a message whose outcome is still in PostgreSQL's log (its send was killed) was sent
    rows = conn.execute(
        select(d.c.id, d.c.subscriber_id, s.c.email)
        .join(s, s.c.id == d.c.subscriber_id)
        .where(d.c.message_id.in_(ids), d.c.status == DeliveryStatus.SENT)
        .order_by(d.c.id)
    ).all()
    if not rows:
        return _by_recipient(conn, event) if event.authenticated else ([], "")
    named = {r.lower() for r in event.recipients}
    if by_recipient and named:
        found: list[tuple[int | None, int]] = [(r.id, r.subscriber_id) for r in rows if r.email.lower() in named]
        if found:
            return found, "recipient"
    if len(rows) == 1:  # a Message-ID names one delivery; one shared by several names none of them
        return [(rows[0].id, rows[0].subscriber_id)], "message-id"
    return [], ""


def _by_recipient(conn: Connection, event: BounceEvent) -> tuple[list[tuple[int | None, int]], str]:
    """An authenticated event's recipients: each subscriber's latest delivery sent."""
    found: list[tuple[int | None, int]] = []
    for email in event.recipients[:1]:
        sub = conn.execute(select(s.c.id).where(func.lower(s.c.email) == email.lower())).first()
        if sub is None:
            continue
        last = conn.execute(
            select(func.max(d.c.id)).where(d.c.subscriber_id == sub.id, d.c.status == DeliveryStatus.SENT)
        ).scalar()
        found.append((last, sub.id))
    return found, "recipient" if found else ""


def _record(conn: Connection, delivery_id: int, feedback: Feedback, event: BounceEvent, at: datetime) -> None:
    """The feedback on the delivery, unless it already holds a stronger one (a complaint beats a bounce)."""
    current = conn.execute(select(d.c.feedback).where(d.c.id == delivery_id)).scalar()
    if current is not None and FEEDBACK_RANK[Feedback(current)] > FEEDBACK_RANK[feedback]:
        return
    conn.execute(
        update(d)
        .where(d.c.id == delivery_id)
        .values(
            feedback=feedback.value,
            feedback_code=event.code[:20] or None,
            feedback_reason=event.reason[:20] or None,
            feedback_text=event.text[:1000] or None,
            feedback_at=at,
        )
    )


def _soft_run(
    conn: Connection, subscriber_id: int, delivery_id: int | None, since: datetime, counts: Callable[[str | None], bool]
) -> int:
    """Soft bounces in a row, counting back from ``delivery_id`` over the deliveries sent since ``since``."""
    if delivery_id is None:
        return 0
    rows = conn.execute(
        select(d.c.feedback, d.c.feedback_reason)
        .where(
            d.c.subscriber_id == subscriber_id,
            d.c.id <= delivery_id,
            d.c.status == DeliveryStatus.SENT,
            d.c.updated_at >= since,
        )
        .order_by(d.c.id.desc())
    )
    run = 0
    for feedback, reason in rows:
        if feedback != Feedback.SOFT or not counts(reason):
            break
        run += 1
    return run
