"""What a bounce or complaint does to the list, stated once.

    hard bounce   the address or its domain is gone for good (reasons.Side.ADDRESS, permanent): the
                  subscriber is marked bounced at once (only an active one: an unsubscribed address
                  stays unsubscribed)
    soft bounce   recorded; only a soft bounce about the reader's mailbox (mailbox full, expired, a
                  passing failure of their host: reasons.Side.MAILBOX) counts, and the subscriber is
                  marked bounced when the last ``soft_limit`` deliveries to them within ``soft_days``
                  all soft-bounced so (a delivery that did not, between them, starts the count again)
    sender        a refusal about our side (blocked IP, reputation, authentication, content, size,
                  rate, sender rejected: reasons.Side.SENDER), whatever its code: recorded on the
                  delivery and counted per provider for the operator's alert; no subscriber changes
    complaint     the subscriber is unsubscribed at once as "complained", whatever their status, and
                  stays suppressed for good: a new sign-up of the address sends nothing
    anything else (auto-replies, delivered notices, not-spam reports, mail not understood): nothing

Nobody can forge one: an event changes a subscriber only when it carries our signed VERP token for a
delivery, or the Message-ID of a message we sent that subscriber. One that names only a recipient
changes nobody, unless ``match_recipient`` is on (for relays that strip VERP), and even then only a
recipient who was sent the Message-ID it returns. An ESP's webhook event, whose signature (or basic
auth) the web side checked, is the sender's own word and may name the recipient alone.

Each is recorded on the delivery it is about (feedback, code, diagnostic, time), and each event once:
the store keeps every event's own id (a report's Message-ID, a webhook event's id), so a report read
twice, or an event a provider sends again, changes nothing the second time.

The statements are in digest/db/feedback.py, which knows this policy only by the shape it declares
(``Rules``); this module is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from subscribers.model import SubscriberStatus

from ..models import Feedback
from .parse import Kind, Report
from .reasons import Side, side
from .verp import DeliveryRef, Verp


@dataclass(frozen=True)
class BounceEvent:
    """One bounce or complaint from any source, ready to apply."""

    source: str  # mail, ses, postmark, mailgun, sendgrid
    key: str  # its own id at that source: applied once
    label: str  # hard, soft, complaint, autoreply, other
    code: str = ""
    text: str = ""
    ref: DeliveryRef | None = None  # the delivery its VERP address names
    message_ids: tuple[str, ...] = ()  # the original message's Message-ID(s)
    recipients: tuple[str, ...] = ()
    reason: str = ""  # userunknown, mailboxfull, blocked, … (reasons.py); feedback for a complaint
    # the source proved who it is (an ESP's signed webhook), so the recipient it names is the one it
    # delivered to; mail reports can come from anyone and are never so
    authenticated: bool = False

    @property
    def feedback(self) -> Feedback | None:
        return Feedback(self.label) if self.label in Feedback.__members__.values() else None

    def stored(self) -> BounceEvent:
        """This event with every NUL character taken out: PostgreSQL's text refuses them."""

        def clean(text: str) -> str:
            return text.replace("\x00", "")

        return replace(
            self,
            key=clean(self.key),
            label=clean(self.label),
            code=clean(self.code),
            text=clean(self.text),
            message_ids=tuple(clean(i) for i in self.message_ids),
            recipients=tuple(clean(r) for r in self.recipients),
            reason=clean(self.reason),
        )

    @property
    def about_sender(self) -> bool:
        """A bounce about our side: it changes no subscriber."""
        return self.label in (Feedback.HARD, Feedback.SOFT) and side(self.reason) == Side.SENDER

    @property
    def provider(self) -> str:
        """The failing recipient's domain: who refused."""
        return self.recipients[0].rpartition("@")[2][:255] if self.recipients else ""

    @classmethod
    def of(cls, report: Report, verp: Verp | None, source: str = "mail") -> BounceEvent:
        return cls(
            source=source,
            key=report.key,
            label=report.kind.value,
            code=report.code,
            text=report.diagnostic,
            ref=verp.find(*report.addresses) if verp is not None else None,
            message_ids=report.message_ids,
            recipients=report.recipients,
            reason=report.reason,
        )


@dataclass(frozen=True)
class Policy:
    soft_limit: int = 3
    soft_days: int = 30
    match_recipient: bool = False  # [bounces] match_recipient: for relays that strip VERP

    def ignores(self, label: str) -> bool:
        """Auto-replies and mail not understood change nothing."""
        return label in IGNORED

    def counts_soft(self, reason: str | None) -> bool:
        """Whether a soft bounce of ``reason`` counts toward ``soft_limit``."""
        return counts_soft(reason)

    def status_after(self, feedback: Feedback, soft_run: int, reason: str = "") -> SubscriberStatus | None:
        """The subscriber's new status after ``feedback`` for ``reason``; ``soft_run`` counts the soft
        bounces about their mailbox in a row, this one included."""
        if feedback == Feedback.COMPLAINT:
            return SubscriberStatus.COMPLAINED
        if side(reason) == Side.SENDER:
            return None
        if feedback == Feedback.HARD or soft_run >= self.soft_limit:
            return SubscriberStatus.BOUNCED
        return None


def counts_soft(reason: str | None) -> bool:
    """Whether a soft bounce of ``reason`` counts toward the soft limit (one without a reason, from an older
    version or a provider that gives none, does)."""
    return not reason or side(reason) == Side.MAILBOX


IGNORED = (Kind.AUTOREPLY.value, Kind.OTHER.value)
