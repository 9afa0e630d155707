"""The subscriber record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("pending", "active", "unsubscribed", "bounced")


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
