"""The project's database: one engine, and one object per aggregate holding that aggregate's queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from subscribers.store import SubscriberStore

from ..errors import DigestError
from .articles import Articles
from .deliveries import Deliveries
from .engine import make_engine
from .issues import Issues
from .meta import Meta
from .migrate import prepare
from .sources import Sources


class Database:
    """Every read and write of the program goes through one of these attributes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            prepare(self.engine)
        except OperationalError as exc:
            raise DigestError(
                f"cannot open the database {url}: {exc.orig}. Check DIGEST_DATABASE_URL."
            ) from None
        self.sources = Sources(self.engine)
        self.articles = Articles(self.engine)
        self.issues = Issues(self.engine)
        self.deliveries = Deliveries(self.engine)
        self.meta = Meta(self.engine)
        self.subscribers = SubscriberStore(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction, for tests and tools that read the tables directly."""
        with self.engine.begin() as conn:
            yield conn

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
