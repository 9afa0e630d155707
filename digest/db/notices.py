"""The sign-up mail waiting to go out (the notices table): added by a sign-up, claimed by one sender at a
time under a short lease, deleted once sent, tried again later when it could not be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, or_, select, update

from subscribers.clock import now

from . import tables as t

n = t.notices
LEASE = timedelta(minutes=5)  # a sender that died holding a notice lets it go after this


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
            return int(conn.execute(n.insert().values(next_attempt_at=at, **values).returning(n.c.id)).scalar_one())

    def claim(self) -> Waiting | None:
        """The oldest notice due now that no one holds, leased to the caller; None when there is none. One
        UPDATE: the transaction writes from its first statement, so SQLite waits its busy timeout for another
        writer instead of failing the upgrade of a read."""
        at = now()
        free = or_(n.c.lease_until.is_(None), n.c.lease_until < at)
        pick = select(n.c.id).where(n.c.next_attempt_at <= at, free).order_by(n.c.next_attempt_at, n.c.id).limit(1)
        if self.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        take = (
            update(n)
            .where(n.c.id == pick.scalar_subquery(), free)
            .values(lease_until=at + LEASE)
            .returning(n.c.id, n.c.kind, n.c.email, n.c.name, n.c.url, n.c.attempts)
        )
        with self.engine.begin() as conn:
            row = conn.execute(take).first()
        return Waiting(row.id, row.kind, row.email, row.name, row.url, row.attempts) if row is not None else None

    def sent(self, notice_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(n).where(n.c.id == notice_id))

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
            found: datetime | None = conn.execute(select(func.min(n.c.next_attempt_at))).scalar()
        return found

    def waiting(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(n)).scalar_one())
