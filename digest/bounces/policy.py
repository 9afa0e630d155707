"""What a bounce or complaint does to the list, stated once.

    hard bounce   the subscriber is marked bounced at once (only an active one: an unsubscribed
                  address stays unsubscribed)
    soft bounce   recorded; the subscriber is marked bounced when the last ``soft_limit`` deliveries
                  to them within ``soft_days`` all soft-bounced (a delivery that did not bounce
                  between them starts the count again)
    complaint     the subscriber is unsubscribed at once as "complained", whatever their status, and
                  stays suppressed for good: a new sign-up of the address sends nothing
    anything else (auto-replies, delivered notices, not-spam reports, mail not understood): nothing

Each is recorded on the delivery it is about (feedback, code, diagnostic, time), and each event once:
the store keeps every event's own id (a report's Message-ID, a webhook event's id), so a report read
twice, or an event a provider sends again, changes nothing the second time.

The statements are in digest/db/feedback.py; this module is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from subscribers.model import SubscriberStatus

from ..models import Feedback
from .parse import Kind, Report
from .verp import DeliveryRef, Verp

RANK = {Feedback.SOFT: 1, Feedback.HARD: 2, Feedback.COMPLAINT: 3}  # a delivery keeps the strongest


@dataclass(frozen=True)
class Event:
    """One bounce or complaint from any source, ready to apply."""

    source: str  # mail, ses, postmark, mailgun, sendgrid
    key: str  # its own id at that source: applied once
    label: str  # hard, soft, complaint, autoreply, other
    code: str = ""
    text: str = ""
    ref: DeliveryRef | None = None  # the delivery its VERP address names
    message_ids: tuple[str, ...] = ()  # the original message's Message-ID(s)
    recipients: tuple[str, ...] = ()

    @property
    def feedback(self) -> Feedback | None:
        return Feedback(self.label) if self.label in Feedback.__members__.values() else None

    @classmethod
    def of(cls, report: Report, verp: Verp | None, source: str = "mail") -> Event:
        return cls(
            source=source,
            key=report.key,
            label=report.kind.value,
            code=report.code,
            text=report.diagnostic,
            ref=verp.find(*report.addresses) if verp is not None else None,
            message_ids=report.message_ids,
            recipients=report.recipients,
        )


@dataclass(frozen=True)
class Policy:
    soft_limit: int = 3
    soft_days: int = 30

    def status_after(self, feedback: Feedback, soft_run: int) -> SubscriberStatus | None:
        """The subscriber's new status after ``feedback``; ``soft_run`` counts the soft bounces in a row."""
        if feedback == Feedback.COMPLAINT:
            return SubscriberStatus.COMPLAINED
        if feedback == Feedback.HARD or soft_run >= self.soft_limit:
            return SubscriberStatus.BOUNCED
        return None


@dataclass
class Outcome:
    """What applying one event did."""

    label: str  # hard, soft, complaint, autoreply, other; or unmatched, duplicate
    deliveries: list[int] = field(default_factory=list)
    marked: list[tuple[int, str]] = field(default_factory=list)  # (subscriber id, new status)


IGNORED = (Kind.AUTOREPLY.value, Kind.OTHER.value)
