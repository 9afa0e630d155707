"""Reading and writing subscribers in the project's database.

Every change of status, topics or pause goes through this class, and each one appends its line to the
consent history (subscribers.history) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from . import bulk, history, lifecycle
from . import table as t
from .clock import now as _now
from .history import Event
from .model import Change, EventKind, NewSubscriber, Subscriber, SubscriberStatus

BATCH = 1000
IMPORT_BATCH = 2000  # rows an import stores per statement (at most bulk.MAX_ROWS)
S = t.subscribers

OPT_OUT_EVENTS = (EventKind.UNSUBSCRIBED.value, EventKind.BOUNCED.value, EventKind.COMPLAINED.value)

# Built once: every sign-up, unsubscribe and link runs them, and building a statement costs more than
# running it on SQLite.
_GET = select(S).where(S.c.id == bindparam("sid"))
_BY_EMAIL = select(S).where(S.c.email == bindparam("email"))
_ID_OF = select(S.c.id).where(S.c.email == bindparam("email"))
_INSERT = S.insert().returning(S.c.id)
_TOUCH = update(S).where(S.c.id == bindparam("sid")).values(email=S.c.email)  # a write that changes nothing


def _subscriber(row: Any) -> Subscriber:
    m = row._mapping
    return Subscriber(
        id=m["id"],
        email=m["email"],
        name=m["name"],
        status=m["status"],
        paused=bool(m["paused"]),
        topics=frozenset(x for x in m["topics"].split(",") if x),
        jurisdictions=frozenset(x for x in (m["jurisdictions"] or "").split(",") if x),
        created_at=m["created_at"],
        confirmed_at=m["confirmed_at"],
        consent_ip=m["consent_ip"],
    )


class SubscriberStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self.engine.begin() as conn:
            row = conn.execute(_GET, {"sid": subscriber_id}).first()
        return _subscriber(row) if row else None

    @staticmethod
    def id_of(conn: Connection, email: str) -> int | None:
        found: int | None = conn.execute(_ID_OF, {"email": email.lower()}).scalar()
        return found

    def by_email(self, email: str) -> Subscriber | None:
        with self.engine.begin() as conn:
            row = conn.execute(_BY_EMAIL, {"email": email.lower()}).first()
        return _subscriber(row) if row else None

    # -- the history ------------------------------------------------------------------------------

    def record_event(
        self,
        subscriber_id: int,
        kind: EventKind | str,
        source: str = "",
        detail: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Append one line to a subscriber's consent history (for events this class does not make itself)."""
        with self.engine.begin() as conn:
            history.record(conn, subscriber_id, kind, source, detail, ip, user_agent)

    def history(self, subscriber_id: int) -> list[Event]:
        with self.engine.begin() as conn:
            return history.events(conn, subscriber_id)

    # -- adding -----------------------------------------------------------------------------------

    def add(
        self,
        email: str,
        name: str = "",
        topics: Iterable[str] = (),
        status: str = "active",
        source: str = "cli",
        basis: str = "",
        ip: str | None = None,
        user_agent: str | None = None,
        jurisdictions: Iterable[str] = (),
        same_work: bool = False,
    ) -> tuple[Subscriber, bool]:
        """Add one address, recording its sign-up and ``source``; an existing one is returned as it is (never
        resubscribed). True when added. No confirmation time is recorded: only a confirmation sets it.

        ``same_work``: an existing address also costs a write and its commit (its row rewritten unchanged,
        and a sign-up row written and taken back), so the time of the answer does not tell whether the
        address was on the list (web sign-ups)."""
        at = _now()
        row = {
            "email": email.lower(),
            "name": name,
            "topics": ",".join(topics),
            "jurisdictions": ",".join(jurisdictions),
            "status": status,
            "paused": False,
            "created_at": at,
            "confirmed_at": None,
            "consent_ip": None,
        }
        with self.engine.begin() as conn:
            found = conn.execute(_ID_OF, {"email": row["email"]}).scalar()
            if found is None:
                found = conn.execute(_INSERT, row).scalar_one()
                history.record(conn, found, EventKind.SIGNED_UP, source, basis or None, ip, user_agent, at)
                added = True
            else:
                added = False
                if same_work:
                    conn.execute(_TOUCH, {"sid": found})
                    with conn.begin_nested() as twin:  # the new path's history row, written then undone
                        history.record(conn, found, EventKind.SIGNED_UP, source, basis or None, ip, user_agent, at)
                        twin.rollback()
            stored = conn.execute(_GET, {"sid": found}).one()
        return _subscriber(stored), added

    def add_many(self, rows: Iterable[NewSubscriber], basis: str = "", source: str = "import") -> int:
        """Insert rows as active subscribers, skipping addresses already stored (whatever their status, and a
        repeat within ``rows``); each added row gets its sign-up event, with ``basis`` or the row's own
        consent source. Returns how many were added.

        One transaction; ``rows`` is consumed ``IMPORT_BATCH`` at a time, each batch one INSERT … ON CONFLICT
        DO NOTHING … RETURNING on SQLite and PostgreSQL and one insert of its history (``bulk``), so an
        address already there is left exactly as it is, and ``rows`` may be a stream of any length.
        """
        added = 0
        with self.engine.begin() as conn:
            batch: list[NewSubscriber] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= IMPORT_BATCH:
                    added += bulk.add_batch(conn, batch, basis, source)
                    batch = []
            if batch:
                added += bulk.add_batch(conn, batch, basis, source)
        return added

    @staticmethod
    def _count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(S)).scalar_one())

    # -- sign-up, confirmation, preferences, status -------------------------------------------------

    def request(
        self,
        email: str,
        name: str,
        topics: Iterable[str],
        source: str = "form",
        ip: str | None = None,
        user_agent: str | None = None,
        jurisdictions: Iterable[str] = (),
    ) -> tuple[Subscriber, str]:
        """A sign-up from the web: (subscriber, what it was before): 'new', or the status it had.

        A new address is stored as pending, with its sign-up in the history. Any address already stored is
        left exactly as it is (status, name, topics, history): only a confirmation changes it.
        """
        sub, added = self.add(
            email,
            name,
            topics,
            status="pending",
            source=source,
            ip=ip,
            user_agent=user_agent,
            jurisdictions=jurisdictions,
            same_work=True,
        )
        return sub, ("new" if added else sub.status)

    def opted_out_at(self, subscriber_id: int) -> datetime | None:
        """When the subscriber last left the list (unsubscribed, bounced, complained); None if never."""
        with self.engine.begin() as conn:
            found = history.last(conn, subscriber_id, OPT_OUT_EVENTS)
            row = conn.execute(select(S.c.unsubscribed_at, S.c.bounced_at).where(S.c.id == subscriber_id)).first()
        times = [x for x in (found, *(row or ())) if x is not None]
        return max(times) if times else None

    def confirm(self, subscriber_id: int, ip: str | None, user_agent: str | None = None) -> bool:
        """A pending subscriber becomes active, with the time, IP and user agent of consent; one who had left
        comes back (recorded as resubscribed). False when neither (already active, or unknown)."""
        with self.engine.begin() as conn:
            moved = lifecycle.move(
                conn, subscriber_id, Change.CONFIRM, source="confirmation link", at=_now(), ip=ip, user_agent=user_agent
            )
        return moved is not None

    def set_preferences(
        self,
        subscriber_id: int,
        topics: Iterable[str],
        paused: bool,
        source: str = "page",
        jurisdictions: Iterable[str] | None = None,
    ) -> None:
        """Store the reader's topics and pause (and jurisdictions, unless None: left as they are); each
        change is a line of the history (a change of jurisdictions is recorded as a change of topics)."""
        chosen = ",".join(sorted(set(topics)))
        with self.engine.begin() as conn:
            row = conn.execute(select(S.c.topics, S.c.paused, S.c.jurisdictions).where(S.c.id == subscriber_id)).first()
            if row is None:
                return
            places = row.jurisdictions if jurisdictions is None else ",".join(sorted(set(jurisdictions)))
            values = {"topics": chosen, "paused": paused, "jurisdictions": places}
            conn.execute(update(S).where(S.c.id == subscriber_id).values(**values))
            if row.topics != chosen:
                history.record(conn, subscriber_id, EventKind.TOPICS_CHANGED, source, chosen or "all topics")
            if row.jurisdictions != places:
                detail = f"jurisdictions: {places or 'all'}"
                history.record(conn, subscriber_id, EventKind.TOPICS_CHANGED, source, detail)
            if bool(row.paused) != paused:
                history.record(conn, subscriber_id, EventKind.PAUSED if paused else EventKind.RESUMED, source)

    def apply(self, subscriber_id: int, change: Change, source: str = "") -> Subscriber | None:
        """Apply ``change`` to one subscriber (subscribers.lifecycle decides whether it may) and read it back,
        in one transaction: the subscriber as it stands afterwards; None when it is not stored."""
        with self.engine.begin() as conn:
            lifecycle.move(conn, subscriber_id, change, source=source, at=_now())
            row = conn.execute(_GET, {"sid": subscriber_id}).first()
        return _subscriber(row) if row else None

    def change_status(
        self, email: str, change: Change, source: str = "", detail: str | None = None
    ) -> SubscriberStatus | None:
        """Apply ``change`` to an address (subscribers.lifecycle decides what it may do); the new status, or None
        when the address is not stored or the change does not apply to its status."""
        with self.engine.begin() as conn:
            sid = conn.execute(_ID_OF, {"email": email.lower()}).scalar()
            if sid is None:
                return None
            return lifecycle.move(conn, sid, change, source=source, detail=detail, at=_now())

    # -- erasure ------------------------------------------------------------------------------------

    def suppressed_among(self, hashes: list[str]) -> set[str]:
        """Which of these address hashes are on the suppression list of erased addresses."""
        with self.engine.begin() as conn:
            return set(conn.scalars(select(t.suppressed.c.address_hash).where(t.suppressed.c.address_hash.in_(hashes))))

    @staticmethod
    def erase(conn: Connection, subscriber_id: int, address_hash: str) -> None:
        """Delete the subscriber and its history, keeping only ``address_hash`` on the suppression list (within
        the caller's transaction, which first removes what other tables hold of the person)."""
        history.erase(conn, subscriber_id)
        conn.execute(S.delete().where(S.c.id == subscriber_id))
        exists = conn.execute(
            select(t.suppressed.c.address_hash).where(t.suppressed.c.address_hash == address_hash)
        ).first()
        if exists is None:
            conn.execute(t.suppressed.insert().values(address_hash=address_hash, at=_now(), reason="erased"))

    def forget_consent_addresses(self, before: datetime) -> int:
        """Blank the IP and user agent recorded before ``before`` (the retention setting); rows changed."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(S).where(S.c.confirmed_at < before, S.c.consent_ip.is_not(None)).values(consent_ip=None)
            )
            return int(done.rowcount) + history.blank_addresses(conn, before)

    # -- reading many -------------------------------------------------------------------------------

    def iter(self, status: str | None = None, batch: int = BATCH, paused: bool | None = None) -> Iterator[Subscriber]:
        """Subscribers in id order, read in batches so a large list never sits in memory at once."""
        last = 0
        while True:
            q = select(S).where(S.c.id > last)
            if status:
                q = q.where(S.c.status == status)
            if paused is not None:
                q = q.where(S.c.paused.is_(paused))
            with self.engine.begin() as conn:
                rows = conn.execute(q.order_by(S.c.id).limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield _subscriber(row)
            last = rows[-1]._mapping["id"]

    def mailable_count(self) -> int:
        """How many subscribers an issue would go to now (``table.mailable``: active and not paused)."""
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.count()).where(t.mailable)).scalar_one())

    def mailable_selections(self) -> list[tuple[frozenset[str], int]]:
        """Each distinct topic selection among the subscribers who may be mailed, with how many chose it."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(S.c.topics, func.count()).where(t.mailable).group_by(S.c.topics))
            return [(frozenset(filter(None, (topics or "").split(","))), int(n)) for topics, n in rows]

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(S.c.status, func.count()).group_by(S.c.status))
            return {str(s): int(n) for s, n in rows}
