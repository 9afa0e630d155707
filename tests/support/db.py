"""Databases for the tests: a fresh PostgreSQL database per test, and SQLite files restored from the dumps
of databases that earlier commits made (fixtures/db)."""

from __future__ import annotations

import getpass
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

PG_SERVER = "127.0.0.1:5432"
PG_USERS = ("postgres", "root", getpass.getuser())
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "db"
# name -> the schema_version the commit wrote
LEGACY = {"v1": 1, "v2_outbox": 2, "v2_editors": 2, "v3": 3}


def _admin_engine() -> tuple[Engine, str]:
    """An AUTOCOMMIT engine on the database ``test`` and the user it connected as; skips the test when no
    user can connect."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'ip-digest[postgres]')")
    errors: list[str] = []
    for user in dict.fromkeys(PG_USERS):
        engine = create_engine(
            f"postgresql+psycopg://{user}@{PG_SERVER}/test",
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
        )
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            errors.append(f"{user}: {str(exc).strip().splitlines()[0]}")
            engine.dispose()
            continue
        return engine, user
    pytest.skip(f"no PostgreSQL server reachable at {PG_SERVER} (database test, trust auth): {'; '.join(errors)}")


@contextmanager
def fresh_postgres(prefix: str = "digest_test") -> Iterator[str]:
    """A new, empty PostgreSQL database (its SQLAlchemy URL), dropped afterwards even if connections are left
    open; skips the test with the reason when the server does not answer."""
    engine, user = _admin_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://{user}@{PG_SERVER}/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def restore(name: str, folder: Path) -> Path:
    """The dump ``name`` (fixtures/db/<name>.sql) restored as folder/<name>.db; returns the file."""
    path = folder / f"{name}.db"
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / f"{name}.sql").read_text(encoding="utf-8"))
    db.close()
    return path
