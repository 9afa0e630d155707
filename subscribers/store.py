"""Reading and writing subscribers in the project's database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Engine, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import table as t
from .clock import now as _now
from .model import STATUSES, Subscriber

BATCH = 1000


def _subscriber(row: Any) -> Subscriber:
    m = row._mapping
    return Subscriber(
        id=m["id"], email=m["email"], name=m["name"], status=m["status"], paused=bool(m["paused"]),
        topics=frozenset(x for x in m["topics"].split(",") if x), created_at=m["created_at"],
        confirmed_at=m["confirmed_at"], consent_ip=m["consent_ip"],
    )


class SubscriberStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(t.subscribers).where(t.subscribers.c.id == subscriber_id)).first()
        return _subscriber(row) if row else None

    def by_email(self, email: str) -> Subscriber | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(t.subscribers).where(t.subscribers.c.email == email.lower())).first()
        return _subscriber(row) if row else None

    def add(self, email: str, name: str = "", topics: Iterable[str] = (), status: str = "active",
            consent_ip: str | None = None) -> tuple[Subscriber, bool]:
        """Add one address; an existing one is returned as it is (never resubscribed). True when added."""
        with self.engine.begin() as conn:
            added = self._insert(conn, [(email, name, ",".join(topics))], status, consent_ip)
        found = self.by_email(email)
        assert found is not None
        return found, bool(added)

    def add_many(self, rows: list[tuple[str, str, str]], status: str = "active") -> int:
        """Insert (email, name, topics) rows in batches, skipping addresses already stored; returns how many.

        On SQLite and PostgreSQL each batch is one INSERT … ON CONFLICT DO NOTHING, so an address that is
        already there (whatever its status) is left exactly as it is.
        """
        fast = self._insert_ignoring()
        with self.engine.begin() as conn:
            if fast is None:
                return sum(self._insert(conn, rows[i:i + BATCH], status, None) for i in range(0, len(rows), BATCH))
            before = self._count(conn)
            now = _now()
            confirmed = now if status == "active" else None
            for i in range(0, len(rows), BATCH):
                conn.execute(fast, [
                    {"email": e, "name": n, "topics": tp, "status": status, "paused": False, "created_at": now,
                     "confirmed_at": confirmed, "consent_ip": None}
                    for e, n, tp in rows[i:i + BATCH]
                ])
            return self._count(conn) - before

    def _insert_ignoring(self) -> Insert | None:
        name = self.engine.dialect.name
        if name == "sqlite":
            return sqlite.insert(t.subscribers).on_conflict_do_nothing(index_elements=["email"])
        if name == "postgresql":
            return postgresql.insert(t.subscribers).on_conflict_do_nothing(index_elements=["email"])
        return None

    @staticmethod
    def _count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(t.subscribers)).scalar_one())

    def _insert(self, conn: Connection, rows: list[tuple[str, str, str]], status: str, ip: str | None) -> int:
        emails = [r[0] for r in rows]
        existing = set(conn.scalars(select(t.subscribers.c.email).where(t.subscribers.c.email.in_(emails))))
        now = _now()
        fresh = [
            {"email": e, "name": n, "topics": tp, "status": status, "paused": False, "created_at": now,
             "confirmed_at": now if status == "active" else None, "consent_ip": ip}
            for e, n, tp in rows if e not in existing
        ]
        if fresh:
            conn.execute(t.subscribers.insert(), fresh)
        return len(fresh)

    def request(self, email: str, name: str, topics: Iterable[str]) -> tuple[Subscriber, str]:
        """A sign-up from the web: (subscriber, what it was before): 'new', or the status it had.

        A new address is stored as pending; one that had unsubscribed goes back to pending (it is mailed
        nothing until the confirmation link is used); any other address is left as it is.
        """
        sub, added = self.add(email, name, topics, status="pending")
        if added:
            return sub, "new"
        if sub.status == "unsubscribed":
            values: dict[str, Any] = {"status": "pending", "topics": ",".join(topics)}
            if name:
                values["name"] = name
            with self.engine.begin() as conn:
                conn.execute(update(t.subscribers).where(t.subscribers.c.id == sub.id,
                                                         t.subscribers.c.status == "unsubscribed").values(**values))
            fresh = self.get(sub.id)
            assert fresh is not None
            return fresh, "unsubscribed"
        return sub, sub.status

    def confirm(self, subscriber_id: int, ip: str | None) -> bool:
        """A pending subscriber becomes active, with the time and IP of consent; False when not pending."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.subscribers)
                .where(t.subscribers.c.id == subscriber_id, t.subscribers.c.status == "pending")
                .values(status="active", confirmed_at=_now(), consent_ip=(ip or "")[:64] or None)
            )
        return bool(done.rowcount)

    def set_preferences(self, subscriber_id: int, topics: Iterable[str], paused: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.subscribers).where(t.subscribers.c.id == subscriber_id)
                         .values(topics=",".join(sorted(set(topics))), paused=paused))

    def set_status(self, email: str, status: str) -> bool:
        assert status in STATUSES
        values: dict[str, Any] = {"status": status}
        if status == "unsubscribed":
            values["unsubscribed_at"] = _now()
        elif status == "bounced":
            values["bounced_at"] = _now()
        with self.engine.begin() as conn:
            done = conn.execute(update(t.subscribers).where(t.subscribers.c.email == email.lower()).values(**values))
        return bool(done.rowcount)

    def set_status_by_id(self, subscriber_id: int, status: str) -> None:
        sub = self.get(subscriber_id)
        if sub is not None:
            self.set_status(sub.email, status)

    def iter(self, status: str | None = None, batch: int = BATCH) -> Iterator[Subscriber]:
        """Subscribers in id order, read in batches so a large list never sits in memory at once."""
        last = 0
        while True:
            q = select(t.subscribers).where(t.subscribers.c.id > last)
            if status:
                q = q.where(t.subscribers.c.status == status)
            with self.engine.begin() as conn:
                rows = conn.execute(q.order_by(t.subscribers.c.id).limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield _subscriber(row)
            last = rows[-1]._mapping["id"]

    def mailable_count(self) -> int:
        """How many subscribers an issue would go to now (``table.mailable``: active and not paused)."""
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.count()).where(t.mailable)).scalar_one())

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.subscribers.c.status, func.count()).group_by(t.subscribers.c.status))
            return {str(s): int(n) for s, n in rows}
