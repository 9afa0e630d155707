"""The subscriber record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class SubscriberStatus(StrEnum):
    """pending (awaiting confirmation), active, unsubscribed, bounced and complained (never mailed again
    unless the person confirms a new sign-up)."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


STATUSES = tuple(s.value for s in SubscriberStatus)
# Addresses whose owner said no (or whose mail does not arrive): a sign-up leaves them as they are.
OPTED_OUT = frozenset({SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED})


class EventKind(StrEnum):
    """What a line of a subscriber's consent history records (``subscriber_events.kind``)."""

    SIGNED_UP = "signed_up"  # source: form, api, cli, import (detail: the stated basis)
    CONFIRMED = "confirmed"  # ip and user agent of the confirmation
    TOPICS_CHANGED = "topics_changed"
    PAUSED = "paused"
    RESUMED = "resumed"
    UNSUBSCRIBED = "unsubscribed"  # source: one-click, page, mailto, cli, complaint
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    RESUBSCRIBED = "resubscribed"  # a confirmed sign-up after an opt-out


class Change(StrEnum):
    """What happened to a subscriber that may change their status."""

    CONFIRM = "confirm"  # the person confirmed a sign-up (the link in the confirmation mail)
    UNSUBSCRIBE = "unsubscribe"  # one-click, the page, a mailto, the command line
    BOUNCE = "bounce"  # the address does not take mail (a hard bounce, or the soft-bounce policy's limit)
    COMPLAIN = "complain"  # a spam complaint (feedback loop, ESP webhook)


EVENT_KINDS = tuple(k.value for k in EventKind)

# Who may be mailed an issue: an active subscriber who has not paused the digest. The SQL form of the
# same rule is ``subscribers.table.mailable``; both are built from these two values.
MAILABLE_STATUS = SubscriberStatus.ACTIVE
MAILABLE_PAUSED = False


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    topics: frozenset[str]
    status: str
    paused: bool = False
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    consent_ip: str | None = None
    jurisdictions: frozenset[str] = frozenset()  # none: every jurisdiction

    @property
    def mailable(self) -> bool:
        return self.status == MAILABLE_STATUS and self.paused == MAILABLE_PAUSED


class NewSubscriber(NamedTuple):
    """One row of an import: the address and, when the file carries it, its own record of consent (a named
    tuple, which a million-row import builds several times faster than a frozen dataclass)."""

    email: str
    name: str = ""
    topics: str = ""
    confirmed_at: datetime | None = None
    consent_source: str = ""
    consent_ip: str | None = None
    jurisdictions: str = ""
