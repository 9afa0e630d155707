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

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Update, bindparam, func, select, update

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


_STATUS = select(S.c.status).where(S.c.id == bindparam("sid"))
_AT = bindparam("at", type_=S.c.confirmed_at.type)


@functools.cache
def _moving(change: Change) -> Update:
    """The UPDATE that applies ``change`` from the status read, with the columns it stamps besides the
    status: when consent was given and from where (parameter ``consent_ip``), or when the person left.
    Built once per change: an unsubscribe runs it on every one-click request."""
    stamps: dict[str, Any]
    if change == Change.CONFIRM:
        stamps = {"confirmed_at": _AT, "consent_ip": bindparam("consent_ip")}
    elif change == Change.BOUNCE:
        stamps = {"bounced_at": _AT}
    elif change == Change.COMPLAIN:  # a complaint is a "no": it keeps the first time the person left
        stamps = {"unsubscribed_at": func.coalesce(S.c.unsubscribed_at, _AT)}
    else:
        stamps = {"unsubscribed_at": _AT}
    return (
        update(S)
        .where(S.c.id == bindparam("sid"), S.c.status == bindparam("current"))
        .values(status=bindparam("to"), **stamps)
    )


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
    current = conn.execute(_STATUS, {"sid": subscriber_id}).scalar()
    if current is None:
        return None
    to = after(current, change)
    if to is None:
        return None
    params: dict[str, Any] = {"sid": subscriber_id, "current": current, "to": to.value, "at": at}
    if change == Change.CONFIRM:
        params["consent_ip"] = (ip or "")[:64] or None
    done = conn.execute(_moving(change), params)
    if not done.rowcount:  # another writer moved it between the read and the update: theirs stands
        return None
    history.record(conn, subscriber_id, history_kind(current, change), source, detail, ip, user_agent, at)
    return to
