"""The subscriber record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SubscriberStatus(StrEnum):
    """pending (awaiting confirmation), active, unsubscribed, bounced (never mailed again)."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


STATUSES = tuple(s.value for s in SubscriberStatus)

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

    @property
    def mailable(self) -> bool:
        return self.status == MAILABLE_STATUS and self.paused == MAILABLE_PAUSED
