"""The subscribers table, on the metadata that the rest of the program's tables share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
)

from .model import EVENT_KINDS, MAILABLE_PAUSED, MAILABLE_STATUS, SubscriberStatus

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def one_of(table: str, values: Iterable[str]) -> CheckConstraint:
    """A CHECK constraint named ck_<table>_status that lets only ``values`` into the status column."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"status IN ({allowed})", name=f"ck_{table}_status")


subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(500), nullable=False, default=""),
    Column("topics", String(1000), nullable=False, default=""),
    Column("jurisdictions", String(500), nullable=False, default="", server_default=""),  # none: all
    Column("status", String(20), nullable=False, default=SubscriberStatus.ACTIVE.value, index=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("consent_ip", String(64)),
    Column("unsubscribed_at", UTCDateTime),
    Column("bounced_at", UTCDateTime),
    one_of("subscribers", SubscriberStatus),
    # An id is never given twice, even after the newest subscriber is erased: links, VERP addresses and
    # counts that carry it name one person (PostgreSQL's sequence never goes back either).
    sqlite_autoincrement=True,
)

# The SQL twin of ``Subscriber.mailable``: who may be mailed an issue.
mailable = and_(subscribers.c.status == MAILABLE_STATUS.value, subscribers.c.paused.is_(MAILABLE_PAUSED))

# The consent history: one row per thing that happened to a subscription, never updated, deleted only
# with the person (``forget``) or, for the IP and user agent, by the retention setting.
subscriber_events = Table(
    "subscriber_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("source", String(100), nullable=False, default=""),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
    Column("detail", Text, nullable=False, default=""),
    CheckConstraint(f"kind IN ({', '.join(repr(k) for k in EVENT_KINDS)})", name="ck_subscriber_events_kind"),
)

# Addresses erased on request, kept only as a keyed hash (HMAC-SHA256 with the secret key) so that an
# import never brings them back; a sign-up that the person confirms still can.
suppressed = Table(
    "suppressed",
    metadata,
    Column("address_hash", String(64), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", String(20), nullable=False, default="erased"),
)
