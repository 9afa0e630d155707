"""What operators ask of the database: is it reachable, and the figures behind the Prometheus metrics.

Every figure is read from the tables at the time it is asked for, so `digest serve` and `digest daemon`
report the same numbers whichever process did the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from subscribers.model import SubscriberStatus

from ..models import DeliveryStatus, Feedback
from . import tables as t

d, src, s, i = t.deliveries, t.sources, t.subscribers, t.issues

_REVISION = text("SELECT version_num FROM alembic_version")
_LAST_FETCH = select(func.max(src.c.last_fetch))
_BY_STATUS = select(d.c.status, func.count()).group_by(d.c.status)
_RETRIED = select(func.count()).where(or_(d.c.status == DeliveryStatus.DEFERRED, d.c.attempts > 1))
_SOURCES = select(func.count(), func.count(src.c.last_error), func.max(src.c.last_fetch), func.max(src.c.last_success))
_ISSUES = select(func.max(i.c.built_at), func.max(i.c.sent_at))
# Bounces known today: addresses marked bounced (a 5xx at delivery, or the bounce mailbox).
_BOUNCED = select(func.count()).where(s.c.status == SubscriberStatus.BOUNCED)
_COMPLAINED = select(func.count()).where(d.c.feedback == Feedback.COMPLAINT)
_REASONS = (
    select(d.c.feedback, func.coalesce(d.c.feedback_reason, ""), func.count())
    .where(d.c.feedback.is_not(None))
    .group_by(d.c.feedback, d.c.feedback_reason)
)


@dataclass(frozen=True)
class Figures:
    """The operator's numbers, read in one transaction."""

    deliveries: dict[str, int] = field(default_factory=dict)  # rows per DeliveryStatus value
    retried: int = 0  # messages deferred at least once (now waiting, or delivered or failed later)
    sources: int = 0
    sources_failing: int = 0  # sources whose last fetch failed
    last_fetch: datetime | None = None  # the last collect's time (any source tried)
    last_collect: datetime | None = None  # the last successful fetch of any source
    last_build: datetime | None = None
    last_send: datetime | None = None  # the last issue that finished sending
    bounces: int = 0
    complaints: int = 0  # deliveries with a complaint (bounce mailbox, ESP webhooks)
    by_reason: tuple[tuple[str, str, int], ...] = ()  # (feedback, reason or "", deliveries), all issues

    @property
    def outbox_depth(self) -> int:
        return sum(
            self.deliveries.get(k.value, 0)
            for k in (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING)
        )


@dataclass(frozen=True)
class Readiness:
    revision: str | None  # the schema revision stamped in the database; None when there is none
    last_fetch: datetime | None


class Health:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ready(self) -> Readiness:
        """What readiness needs, in a few reads that cost the same at any size: the schema's revision (one
        row) and the last collect (the sources table, a few rows). Raises the driver's error when the
        database cannot be reached."""
        with self.engine.connect() as conn:
            last_fetch = conn.execute(_LAST_FETCH).scalar()  # reached: an error below is about the schema
            try:
                revision = conn.execute(_REVISION).scalar()
            except SQLAlchemyError:  # no alembic_version table: an empty or old database
                revision = None
        return Readiness(None if revision is None else str(revision), last_fetch)

    def figures(self) -> Figures:
        with self.engine.begin() as conn:
            by_status = {str(k): int(n) for k, n in conn.execute(_BY_STATUS)}
            retried = int(conn.execute(_RETRIED).scalar() or 0)
            n_src, failing, last_fetch, last_success = conn.execute(_SOURCES).one()
            built, sent = conn.execute(_ISSUES).one()
            bounced = int(conn.execute(_BOUNCED).scalar() or 0)
            complaints = int(conn.execute(_COMPLAINED).scalar() or 0)
            by_reason = tuple(sorted((str(k), str(r), int(n)) for k, r, n in conn.execute(_REASONS)))
        return Figures(
            deliveries=by_status,
            retried=retried,
            sources=int(n_src),
            sources_failing=int(failing),
            last_fetch=last_fetch,
            last_collect=last_success,
            last_build=built,
            last_send=sent,
            bounces=bounced,
            complaints=complaints,
            by_reason=by_reason,
        )
