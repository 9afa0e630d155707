"""The consent history: what happened to each subscription, when, from where (SQL for subscriber_events).

Every write goes through ``record``, inside the same transaction as the change it records, so a status
and its history never disagree. Rows are only ever added; ``forget`` deletes them with the person, and
the retention setting blanks their IP and user agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from . import table as t
from .clock import now
from .model import EventKind

e = t.subscriber_events

_INSERT = insert(e)
# In time order; events of one moment as recorded. An import records a consent time from the file, which
# may be older than events recorded before it.
_HISTORY = select(e).where(e.c.subscriber_id == bindparam("sid")).order_by(e.c.at, e.c.id)
_LAST = select(func.max(e.c.at)).where(
    e.c.subscriber_id == bindparam("sid"), e.c.kind.in_(bindparam("kinds", expanding=True))
)


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    source: str
    ip: str | None
    user_agent: str | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "source": self.source,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "detail": self.detail,
        }


def values(
    subscriber_id: int,
    kind: EventKind | str,
    source: str = "",
    detail: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One row of the history, checked and bounded to its columns."""
    return {
        "subscriber_id": subscriber_id,
        "kind": EventKind(kind).value,
        "source": (source or "")[:100],
        "detail": detail or "",
        "ip": (ip or "")[:64] or None,
        "user_agent": (user_agent or "")[:300] or None,
        "at": at or now(),
    }


def record(
    conn: Connection,
    subscriber_id: int,
    kind: EventKind | str,
    source: str = "",
    detail: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event to a subscriber's history (within the caller's transaction)."""
    conn.execute(_INSERT, values(subscriber_id, kind, source, detail, ip, user_agent, at))


def events(conn: Connection, subscriber_id: int) -> list[Event]:
    """A subscriber's history in the order it was recorded (an import may record an earlier confirmation)."""
    return [
        Event(at=r.at, kind=r.kind, source=r.source, ip=r.ip, user_agent=r.user_agent, detail=r.detail)
        for r in conn.execute(_HISTORY, {"sid": subscriber_id})
    ]


def last(conn: Connection, subscriber_id: int, kinds: tuple[str, ...]) -> datetime | None:
    """When the latest event of one of these kinds happened."""
    found: datetime | None = conn.execute(_LAST, {"sid": subscriber_id, "kinds": list(kinds)}).scalar_one()
    return found


def erase(conn: Connection, subscriber_id: int) -> None:
    conn.execute(delete(e).where(e.c.subscriber_id == subscriber_id))


def blank_addresses(conn: Connection, before: datetime) -> int:
    """Forget the IP and user agent of events older than ``before``; how many rows changed."""
    done = conn.execute(
        update(e)
        .where(e.c.at < before, (e.c.ip.is_not(None)) | (e.c.user_agent.is_not(None)))
        .values(ip=None, user_agent=None)
    )
    return int(done.rowcount)
