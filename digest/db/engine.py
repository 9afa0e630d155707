"""Engines for the project's database: SQLite (the embedded default) or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from ..errors import ConfigError

BUSY_SECONDS = 30


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
    _write_ahead_log(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _write_ahead_log(cur: Any) -> None:
    """Switch the file to WAL. While another connection holds a lock on a file still in rollback mode
    (two processes opening it at once), SQLite answers "database is locked" at once, without waiting on
    busy_timeout: try again until the other is done, as busy_timeout would."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another server or an in-memory database."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def make_engine(url: str, pooled: bool = True) -> Engine:
    """An engine for ``url``; ``pooled=False`` closes each connection when it is returned.

    A SQLite file's connections are kept open between transactions, as a server's are: opening one costs
    its pragmas and the schema's parse, and closing the last one checkpoints the log, which made each web
    request pay for both. A process that forks drops its pool first (digest/workers.py)."""
    try:
        if url.startswith("sqlite") and pooled and sqlite_file(url) is not None:
            engine = create_engine(url, pool_size=8, max_overflow=24, pool_timeout=BUSY_SECONDS)
            event.listen(engine, "connect", _sqlite_pragmas)
        elif url.startswith("sqlite"):
            engine = create_engine(url, poolclass=NullPool)
            event.listen(engine, "connect", _sqlite_pragmas)
        elif not pooled:
            engine = create_engine(url, poolclass=NullPool)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError("environment", "DIGEST_DATABASE_URL", f"cannot use {url!r}: {exc}") from None
    return engine
