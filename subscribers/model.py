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


STATUSES = tuple(s.value for s in SubscriberStatus)


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
        return self.status == "active" and not self.paused
