"""The sign-up mail waiting to go out (the notices table): added by a sign-up, claimed by one sender at a
time under a short lease, deleted once sent, tried again later when it could not be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, or_, select, update

from subscribers.clock import now

from . import tables as t

n = t.notices
LEASE = timedelta(minutes=5)  # a sender that died holding a notice lets it go after this

# Built once: a sign-up runs them each time, and building a statement costs more than running it on SQLite.
_AT = bindparam("at", type_=n.c.next_attempt_at.type)
_ADD = n.insert().returning(n.c.id)
_SENT = delete(n).where(n.c.id == bindparam("notice_id"))
_NEXT_DUE = select(func.min(n.c.next_attempt_at))


def _claim(postgres: bool) -> Any:
    free = or_(n.c.lease_until.is_(None), n.c.lease_until < _AT)
    pick = select(n.c.id).where(n.c.next_attempt_at <= _AT, free).order_by(n.c.next_attempt_at, n.c.id).limit(1)
    if postgres:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(n)
        .where(n.c.id == pick.scalar_subquery(), free)
        .values(lease_until=bindparam("until", type_=n.c.lease_until.type))
        .returning(n.c.id, n.c.kind, n.c.email, n.c.name, n.c.url, n.c.attempts)
    )


_CLAIM = {False: _claim(False), True: _claim(True)}


@dataclass(frozen=True)
class Waiting:
    id: int
    kind: str
    email: str
    name: str
    url: str
    attempts: int


class Notices:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, kind: str, email: str, name: str, url: str) -> int:
        at = now()
        values = {"kind": kind, "email": email, "name": name, "url": url, "created_at": at, "attempts": 0}
        with self.engine.begin() as conn:
            return int(conn.execute(_ADD, {"next_attempt_at": at, **values}).scalar_one())

    def claim(self) -> Waiting | None:
        """The oldest notice due now that no one holds, leased to the caller; None when there is none. One
        UPDATE: the transaction writes from its first statement, so SQLite waits its busy timeout for another
        writer instead of failing the upgrade of a read."""
        at = now()
        take = _CLAIM[self.engine.dialect.name == "postgresql"]
        with self.engine.begin() as conn:
            row = conn.execute(take, {"at": at, "until": at + LEASE}).first()
        return Waiting(row.id, row.kind, row.email, row.name, row.url, row.attempts) if row is not None else None

    def sent(self, notice_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(_SENT, {"notice_id": notice_id})

    def retry(self, notice_id: int, error: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(n)
                .where(n.c.id == notice_id)
                .values(attempts=n.c.attempts + 1, next_attempt_at=at, lease_until=None, last_error=error[:1000])
            )

    def next_due(self) -> datetime | None:
        """When the next notice falls due (a past time when one is due now); None when none waits."""
        with self.engine.begin() as conn:
            found: datetime | None = conn.execute(_NEXT_DUE).scalar()
        return found

    def waiting(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(n)).scalar_one())
