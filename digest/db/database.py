"""The project's database: one engine, and one object per aggregate holding that aggregate's queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import OperationalError

from subscribers.store import SubscriberStore

from ..errors import DigestError
from . import tables as t
from .archive import Archive
from .articles import Articles
from .clicks import Clicks
from .dashboard import Dashboard
from .deliveries import Deliveries
from .dependents import clear_dependents
from .engine import make_engine
from .feedback import FeedbackStore
from .health import Health
from .issues import Issues
from .labels import TopicLabels
from .meta import Meta
from .migrate import prepare
from .notices import Notices
from .reports import Reports
from .sessions import EditorSessions
from .sources import Sources


class Database:
    """Every read and write of the program goes through one of these attributes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            prepare(self.engine)
        except OperationalError as exc:
            raise DigestError(f"cannot open the database {url}: {exc.orig}. Check DIGEST_DATABASE_URL.") from None
        self.sources = Sources(self.engine)
        self.articles = Articles(self.engine)
        self.topic_labels = TopicLabels(self.engine)
        self.archive = Archive(self.engine)
        self.issues = Issues(self.engine)
        self.deliveries = Deliveries(self.engine)
        self.feedback = FeedbackStore(self.engine)
        self.meta = Meta(self.engine)
        self.health = Health(self.engine)
        self.clicks = Clicks(self.engine)
        self.reports = Reports(self.engine)
        self.dashboard = Dashboard(self.engine)
        self.subscribers = SubscriberStore(self.engine)
        self.sessions = EditorSessions(self.engine)
        self.notices = Notices(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction, for tests and tools that read the tables directly."""
        with self.engine.begin() as conn:
            yield conn

    def erased_among(self, emails: list[str], secret_key: str | None) -> set[str]:
        """Which of these (normalised) addresses were erased on request: the suppression list's salted hash,
        and the HMAC under the secret key it kept before it had its own salt."""
        from subscribers.tokens import Tokens, suppression_hash

        salt, tokens = self.meta.suppression_salt(), Tokens(self.meta.secret_key(secret_key))
        hashes: dict[str, str] = {}
        for e in emails:
            hashes[suppression_hash(salt, e)] = e
            hashes[tokens.address_hash(e)] = e
        return {hashes[h] for h in self.subscribers.suppressed_among(list(hashes))}

    def forget(self, email: str, address_hash: str) -> int | None:
        """Erase a person in one transaction: their mail waiting to go out, their clicks and opens, the
        diagnostics of the bounces and complaints about them, their deliveries, whatever else points at them
        (``dependents``), their history and record, leaving ``address_hash`` on the suppression list. The
        erased id; None when the address is not stored."""
        with self.engine.begin() as conn:
            found = self.subscribers.id_of(conn, email)
            if found is None:
                return None
            conn.execute(delete(t.notices).where(t.notices.c.email == email.lower()))
            for table in (t.clicks, t.opens):
                conn.execute(delete(table).where(table.c.subscriber_id == found))
            f, d = t.feedback_events, t.deliveries
            theirs = (f.c.subscriber_id == found) | f.c.delivery_id.in_(
                select(d.c.id).where(d.c.subscriber_id == found)
            )
            conn.execute(update(f).where(theirs).values(detail=None))
            self.deliveries.erase_subscriber(conn, found)
            clear_dependents(conn, t.subscribers, t.subscribers.c.id == found)
            self.subscribers.erase(conn, found, address_hash)
        return found

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """Keep one idle connection open meanwhile: on SQLite the engine opens a connection per statement,
        and the last one to close checkpoints the write-ahead log and deletes it, a few milliseconds of
        disk syncs each time. A long run of small writes (a collect) holds this instead."""
        if self.engine.dialect.name != "sqlite":
            yield
            return
        with self.engine.connect():
            yield

    def close(self) -> None:
        self.engine.dispose()
