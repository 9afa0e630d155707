"""The import's bulk insert: a batch of new subscribers and their consent history in two statements.

Each batch is one multi-row INSERT … ON CONFLICT (email) DO NOTHING … RETURNING for the subscribers (so an
address already stored is left exactly as it is, and a repeat within the batch is stored once) and one
executemany for the history lines of the rows it added. The SQL is built once per batch size and the
values go to the driver already converted: what is the same for the whole batch (its time, status and
paused flag) is converted once, not once a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Dialect

from . import table as t
from .clock import now
from .model import EventKind, SubscriberStatus

if TYPE_CHECKING:
    from .model import NewSubscriber

S, E = t.subscribers, t.subscriber_events
COLUMNS = ("email", "name", "topics", "status", "paused", "created_at", "confirmed_at", "consent_ip", "jurisdictions")
EVENT_COLUMNS = ("subscriber_id", "at", "kind", "source", "detail", "ip", "user_agent")
# Rows a statement inserts at most: 9 values a row stays under SQLite's 32,766 and PostgreSQL's 65,535.
MAX_ROWS = 3500


def _converter(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What SQLAlchemy would do to a value of ``column`` before handing it to the driver."""
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    return convert if convert is not None else (lambda value: value)


@lru_cache(maxsize=16)
def _sql(dialect: Dialect, rows: int) -> tuple[str, str]:
    """(the subscribers INSERT for ``rows`` rows, the history INSERT for one row) in the dialect's style."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    one = "(" + ", ".join([mark] * len(COLUMNS)) + ")"
    subscribers = (
        f"INSERT INTO {quote(S.name)} ({', '.join(map(quote, COLUMNS))}) VALUES "
        f"{', '.join([one] * rows)} ON CONFLICT ({quote('email')}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('email')}"
    )
    events = (
        f"INSERT INTO {quote(E.name)} ({', '.join(map(quote, EVENT_COLUMNS))}) "
        f"VALUES ({', '.join([mark] * len(EVENT_COLUMNS))})"
    )
    return subscribers, events


def add_batch(conn: Connection, batch: Sequence[NewSubscriber], basis: str, source: str) -> int:
    """Store ``batch`` (at most MAX_ROWS) as active subscribers with their history, within the caller's
    transaction; how many were added. Each added row gets its sign-up (with ``basis`` or the row's own
    consent source) and, when the row carries a confirmation time, its confirmation."""
    if not batch:
        return 0
    assert len(batch) <= MAX_ROWS
    dialect = conn.dialect
    when, flag = _converter(S.c.created_at, dialect), _converter(S.c.paused, dialect)
    at = when(now())
    active, paused = SubscriberStatus.ACTIVE.value, flag(False)
    values: list[Any] = []
    for r in batch:
        confirmed = None if r.confirmed_at is None else when(r.confirmed_at)
        values += (r.email, r.name, r.topics, active, paused, at, confirmed, r.consent_ip, r.jurisdictions)
    insert_subscribers, insert_event = _sql(dialect, len(batch))
    added = conn.exec_driver_sql(insert_subscribers, tuple(values)).all()
    if not added:
        return 0
    by_email = {r.email: r for r in reversed(batch)}  # the first row of an address is the one stored
    signed_up, confirmed_kind, detail = EventKind.SIGNED_UP.value, EventKind.CONFIRMED.value, basis or ""
    events: list[tuple[int, datetime | str, str, str, str, str | None, None]] = []
    for sid, email in added:
        r = by_email[email]
        origin = (r.consent_source or source)[:100]
        events.append((sid, at, signed_up, origin, detail, None, None))
        if r.confirmed_at is not None:
            events.append(
                (sid, when(r.confirmed_at), confirmed_kind, origin, "", (r.consent_ip or "")[:64] or None, None)
            )
    conn.exec_driver_sql(insert_event, events)
    return len(added)
