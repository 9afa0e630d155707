"""The database's schema revision, kept by Alembic (configured here in code; scripts in migrations/).

    prepare(engine)   on every open: a new, empty database is made at head; one that is behind,
                      made before revisions, or ahead stops the command (SchemaMismatch, exit 2)
    upgrade(engine)   `digest db upgrade`, and `digest serve` / `digest daemon` at start: brings
                      the schema to head under a lock, so two starting processes never both migrate
    state(engine)     where the schema stands (`digest db current`)

The lock is the database's own: a PostgreSQL advisory lock on a fixed key, SQLite's write lock
(BEGIN IMMEDIATE). The one who waited finds the work done and changes nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError

from .. import __version__
from ..errors import DigestError, SchemaMismatch
from .legacy import FIRST_REVISION, NEWEST_VERSION, bring_to_first_revision, legacy_version

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).with_name("migrations")
LOCK_KEY = 0x6970_6467_6462  # pg_advisory_lock key of schema changes ("ipdgdb")
NOT_OURS = frozenset({"scheduler_jobs"})  # APScheduler's job table: made and kept by APScheduler
# The newest revision in migrations/versions, which every open compares with the database's own without
# loading Alembic (a tenth of a second of every command); tests/test_migrations.py holds it to Alembic's head.
HEAD = "0014_delivery_outcomes"


# The archive's full-text index: SQLite's FTS5 table (and the shadow tables FTS5 keeps), PostgreSQL's
# generated tsvector column and its GIN index. Made by migration 0013_archive in each database's own terms,
# they are not in the models, and autogenerate is to leave them alone.
FULL_TEXT = ("archive_search", "search_vector", "ix_archive_stories_search")


def include_name(name: str | None, type_: str, _parent: object = None) -> bool:
    """Alembic's filter: every table but the ones that other libraries own, and not the full-text index."""
    if name is not None and name.startswith(FULL_TEXT):
        return False
    return not (type_ == "table" and name in NOT_OURS)


@functools.cache
def scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The revision this program brings databases to (an error if two branches left two heads)."""
    found = scripts().get_current_head()
    assert found is not None, "migrations/versions holds no revision"
    return found


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    return config


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands."""

    current: str | None  # the revision stamped in it; None when empty or made before revisions
    head: str  # the revision this program needs
    legacy: int | None  # the schema_version of a database made before revisions
    empty: bool  # no table of ours yet

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        """False when a newer ip-digest wrote a revision (or version) this one does not have."""
        if self.legacy is not None:
            return self.legacy <= NEWEST_VERSION
        if self.current is None:
            return True
        from alembic.util.exc import CommandError

        try:
            script: Script | None = scripts().get_revision(self.current)
        except CommandError:
            return False
        return script is not None

    def where(self) -> str:
        if self.empty:
            return "an empty database"
        if self.current is None:
            return f"schema version {self.legacy} (made before schema revisions)"
        return f"revision {self.current}"

    def problem(self, url: str) -> str | None:
        """What stops a command from using the database as it is, and the command that fixes it."""
        if self.at_head or self.empty:
            return None
        if not self.known:
            return (
                f"the database {url} is at {self.where()}, which ip-digest {__version__} does not know: "
                "this database was upgraded by a newer ip-digest; install it (pip install --upgrade ip-digest)"
            )
        return (
            f"the database {url} is at {self.where()}, and this ip-digest needs revision {self.head}: "
            "run `digest db upgrade` (back the database up first)"
        )


def _inspect(conn: Connection) -> SchemaState:
    from alembic.runtime.migration import MigrationContext

    tables = set(inspect(conn).get_table_names()) - NOT_OURS
    current = MigrationContext.configure(conn).get_current_revision()
    empty = current is None and not (tables - {"alembic_version"})
    legacy = legacy_version(conn) if current is None and not empty else None
    return SchemaState(current, head(), legacy, empty)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock until it commits."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch mode copies tables that others reference: foreign keys are checked by the models'
            # own writes, not while a table is swapped for its copy. BEGIN IMMEDIATE takes the write lock.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return _inspect(conn)


@dataclass(frozen=True)
class Upgrade:
    before: SchemaState
    after: str

    @property
    def changed(self) -> bool:
        return not self.before.at_head


def _upgrade(conn: Connection, before: SchemaState) -> None:
    from alembic import command

    if before.legacy is not None:
        added = bring_to_first_revision(conn)
        log.info(
            "schema version %s: added %s; now revision %s", before.legacy, ", ".join(added) or "nothing", FIRST_REVISION
        )
        command.stamp(_config(conn), FIRST_REVISION)
    command.upgrade(_config(conn), "head")


def upgrade(engine: Engine) -> Upgrade:
    """Bring the schema to head under the lock; a database ahead of this program is refused."""
    with _locked(engine) as conn:
        before = _inspect(conn)
        if not before.known:
            raise SchemaMismatch(str(before.problem(_url(engine))))
        if not before.at_head:
            _upgrade(conn, before)
    return Upgrade(before, head())


def prepare(engine: Engine) -> None:
    """Called on every open: make a new database at head; refuse one at another revision."""
    if _stamped_head(engine):
        return
    found = state(engine)
    if found.empty:
        with _locked(engine) as conn:
            found = _inspect(conn)  # another process may have made it meanwhile
            if found.empty:
                _upgrade(conn, found)
                return
    problem = found.problem(_url(engine))
    if problem:
        raise SchemaMismatch(problem)


def _stamped_head(engine: Engine) -> bool:
    """The common case, answered with one query: the database says it is at HEAD."""
    with engine.connect() as conn:
        try:
            stamped = [row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
        except DBAPIError:  # no such table: new, or made before revisions
            return False
    return stamped == [HEAD]


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    from .engine import make_engine

    engine = make_engine(url)
    try:
        yield engine
    except OperationalError as exc:
        raise DigestError(f"cannot open the database {url}: {exc.orig}. Check DIGEST_DATABASE_URL.") from None
    finally:
        engine.dispose()


def upgrade_database(url: str) -> Upgrade:
    """upgrade() on the database at ``url`` (`digest db upgrade`, `digest serve`, `digest daemon`)."""
    with _engine(url) as engine:
        return upgrade(engine)


def database_state(url: str) -> SchemaState:
    """state() of the database at ``url`` (`digest db current`)."""
    with _engine(url) as engine:
        return state(engine)
