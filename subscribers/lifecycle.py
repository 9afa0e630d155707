"""A subscriber's status: the one owner of which changes are allowed, what each one stamps, and its history line.

Every writer of ``subscribers.status`` (sign-up confirmation, unsubscribe by link, page or command, a bounce
read from the mailbox or refused during a send, a complaint) calls ``move``; nothing else updates the column.

    from \\ change   confirm       unsubscribe    bounce     complain
    pending          active        unsubscribed   bounced    complained
    active           -             unsubscribed   bounced    complained
    unsubscribed     active (re)   -              -          complained
    bounced          active (re)   -              -          complained
    complained       active (re)   -              -          -

A confirmation is only ever the person's own click on a link mailed to the address; "(re)" is recorded as a
resubscription. A bounce never overrides what the person said (an unsubscribe, a complaint); an address that
bounced is not mailed, so unsubscribing it changes nothing; nothing but the person's own confirmation undoes
a complaint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from . import history
from . import table as t
from .model import Change, EventKind, SubscriberStatus

S = t.subscribers

P, A, U, B, C = (
    SubscriberStatus.PENDING,
    SubscriberStatus.ACTIVE,
    SubscriberStatus.UNSUBSCRIBED,
    SubscriberStatus.BOUNCED,
    SubscriberStatus.COMPLAINED,
)


TRANSITIONS: Mapping[tuple[SubscriberStatus, Change], SubscriberStatus] = {
    (P, Change.CONFIRM): A,
    (U, Change.CONFIRM): A,
    (B, Change.CONFIRM): A,
    (C, Change.CONFIRM): A,
    (P, Change.UNSUBSCRIBE): U,
    (A, Change.UNSUBSCRIBE): U,
    (P, Change.BOUNCE): B,
    (A, Change.BOUNCE): B,
    (P, Change.COMPLAIN): C,
    (A, Change.COMPLAIN): C,
    (U, Change.COMPLAIN): C,
    (B, Change.COMPLAIN): C,
}

_EVENT = {
    Change.UNSUBSCRIBE: EventKind.UNSUBSCRIBED,
    Change.BOUNCE: EventKind.BOUNCED,
    Change.COMPLAIN: EventKind.COMPLAINED,
}


def after(status: SubscriberStatus | str, change: Change) -> SubscriberStatus | None:
    """The status that ``change`` moves a subscriber in ``status`` to; None when it changes nothing."""
    return TRANSITIONS.get((SubscriberStatus(status), change))


def history_kind(status: SubscriberStatus | str, change: Change) -> EventKind:
    """The history line a change from ``status`` writes."""
    if change == Change.CONFIRM:
        return EventKind.CONFIRMED if SubscriberStatus(status) == P else EventKind.RESUBSCRIBED
    return _EVENT[change]


def stamps(change: Change, at: datetime, ip: str | None = None) -> dict[str, Any]:
    """The columns a change sets besides the status: when consent was given, or when the person left."""
    if change == Change.CONFIRM:
        return {"confirmed_at": at, "consent_ip": (ip or "")[:64] or None}
    if change == Change.BOUNCE:
        return {"bounced_at": at}
    if change == Change.COMPLAIN:  # a complaint is a "no": it keeps the first time the person left
        return {"unsubscribed_at": func.coalesce(S.c.unsubscribed_at, at)}
    return {"unsubscribed_at": at}


def move(
    conn: Connection,
    subscriber_id: int,
    change: Change,
    *,
    source: str,
    at: datetime,
    detail: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> SubscriberStatus | None:
    """Apply ``change`` to one subscriber within the caller's transaction: the status, its stamps and the
    history line together. Returns the new status, or None when the change is not allowed from the current
    status (or the subscriber is unknown), in which case nothing is written."""
    current = conn.execute(select(S.c.status).where(S.c.id == subscriber_id)).scalar()
    if current is None:
        return None
    to = after(current, change)
    if to is None:
        return None
    done = conn.execute(
        update(S)
        .where(S.c.id == subscriber_id, S.c.status == current)
        .values(status=to.value, **stamps(change, at, ip))
    )
    if not done.rowcount:  # another writer moved it between the read and the update: theirs stands
        return None
    history.record(conn, subscriber_id, history_kind(current, change), source, detail, ip, user_agent, at)
    return to
