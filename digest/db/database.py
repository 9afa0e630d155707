"""The project's database: one engine, and one object per aggregate holding that aggregate's queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from subscribers.store import SubscriberStore

from ..errors import DigestError
from .archive import Archive
from .articles import Articles
from .clicks import Clicks
from .dashboard import Dashboard
from .deliveries import Deliveries
from .engine import make_engine
from .feedback import FeedbackStore
from .health import Health
from .issues import Issues
from .meta import Meta
from .migrate import prepare
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

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction, for tests and tools that read the tables directly."""
        with self.engine.begin() as conn:
            yield conn

    def forget(self, email: str, address_hash: str) -> bool:
        """Erase a person: their deliveries, history and record, in one transaction, leaving ``address_hash``
        on the suppression list. False when the address is not stored."""
        with self.engine.begin() as conn:
            found = self.subscribers.id_of(conn, email)
            if found is None:
                return False
            self.deliveries.erase_subscriber(conn, found)
            self.subscribers.erase(conn, found, address_hash)
        return True

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
