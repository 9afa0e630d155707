"""The delivery outbox: one row per (issue, subscriber), claimed in batches under a lease, one outcome each.

The statements run once per message (record, renew, claim) are built once, here, at import. Claiming is
``UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED])``: on PostgreSQL the row locks let many
processes share one send; on SQLite the single guarded UPDATE holds the database's write lock, so two
claims never overlap either. A message's outcome is written into its row on SQLite; on PostgreSQL it is
appended to the outcome log (tables.delivery_outcomes) and folded into the rows in bulk (``fold_outcomes``).
The worker logic around these statements is in digest/delivery/run.py.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Integer,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from subscribers import lifecycle
from subscribers.clock import now
from subscribers.model import Change, Subscriber
from subscribers.table import mailable

from ..models import DeliveryStatus
from . import tables as t
from .dependents import delete_with_dependents

d, s, o = t.deliveries, t.subscribers, t.delivery_outcomes
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)  # waiting to be tried
UNFINISHED = (*OPEN, DeliveryStatus.SENDING)

_AT = bindparam("at", type_=d.c.lease_until.type)
_UNTIL = bindparam("until", type_=d.c.lease_until.type)
_ISSUE = d.c.issue_id == bindparam("b_issue")


def _claim(postgres: bool) -> Any:
    due = or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= _AT)
    # So that the search runs along ix_deliveries_claim (issue, status, id), in its order. SQLite walks an
    # IN list of the index's column in order; PostgreSQL 15 (the version tested here) does not: given IN
    # it read every unfinished row of the issue and sorted them all on each claim (18,000 rows for 100
    # taken, 75 µs of its CPU a row claimed). Given a range of statuses it reads the index in order and
    # stops at the limit; the range holds the unfinished statuses and "failed" among them, which the rest
    # of the condition leaves out.
    unfinished = d.c.status.between(min(UNFINISHED), max(UNFINISHED)) if postgres else d.c.status.in_(UNFINISHED)
    lapsed = and_(d.c.status == DeliveryStatus.SENDING, d.c.lease_until < _AT)
    if postgres:  # a row whose outcome is logged but not yet folded in was sent: its lease is not a retry
        lapsed = and_(lapsed, ~exists().where(o.c.delivery_id == d.c.id))
    claimable = and_(_ISSUE, unfinished, or_(and_(d.c.status.in_(OPEN), due), lapsed))
    # In the index's order (retries due first, then the rest, then leases run out), not the table's: a
    # claim reads only the rows it takes, not every row of the issue sorted afresh.
    chosen = select(d.c.id).where(claimable).order_by(d.c.status, d.c.id).limit(bindparam("limit"))
    taken: ColumnElement[bool] = d.c.id.in_(chosen.scalar_subquery())
    if postgres:
        # = ANY(ARRAY(…)): the chosen ids are looked up by the primary key; with IN (…) PostgreSQL joined
        # them against a scan of the whole table, every row of every issue on each claim.
        taken = d.c.id == any_(func.array(chosen.with_for_update(skip_locked=True).scalar_subquery()))
    return (
        update(d)
        .where(taken)
        .values(status=DeliveryStatus.SENDING, lease_owner=bindparam("owner"), lease_until=_UNTIL)
        .returning(d.c.id, d.c.attempts, d.c.subscriber_id)
    )


def _listed(postgres: bool, column: ColumnElement[int] = d.c.id) -> ColumnElement[bool]:
    """The rows whose ``column`` (an id) is in the list ``ids``. On PostgreSQL ``= ANY(%(ids)s)``, one
    array: given ``IN (…)`` of a hundred parameters it read the table whole instead of looking the ids up
    by the primary key."""
    if postgres:
        return column == any_(bindparam("ids", type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam("ids", expanding=True))


def _people(postgres: bool) -> Any:
    """The claimed rows' subscribers, looked up by id. Not joined to the outbox: PostgreSQL joined 100
    claimed rows to the whole subscribers table by hash (4–7.5 ms a claim at 20,000 subscribers, 40–75 µs
    of its CPU a message) where 100 lookups by the primary key take 0.1 ms."""
    return select(
        s.c.id.label("subscriber_id"), s.c.email, s.c.name, s.c.topics, s.c.jurisdictions, s.c.status, s.c.paused
    ).where(_listed(postgres, s.c.id))


def _renew(postgres: bool) -> Any:
    return (
        update(d)
        .where(_listed(postgres), d.c.lease_owner == bindparam("owner"), d.c.status == DeliveryStatus.SENDING)
        .values(lease_until=_UNTIL)
    )


def _forget(postgres: bool) -> Any:
    return delete(d).where(_listed(postgres))


def _each_database(make: Callable[[bool], Any]) -> dict[bool, Any]:
    """A statement built once for SQLite (False) and once for PostgreSQL (True)."""
    return {postgres: make(postgres) for postgres in (False, True)}


# Built once: these run per batch or per message.
_CLAIM, _PEOPLE, _FORGET, _RENEW = map(_each_database, (_claim, _people, _forget, _renew))
_NEXT_DUE = select(func.count(), func.min(d.c.next_attempt_at)).where(_ISSUE, d.c.status.in_(OPEN))
_LAST = select(func.max(d.c.id)).where(_ISSUE, d.c.status.in_(UNFINISHED))
_COUNTS = select(d.c.status, func.count()).where(_ISSUE).group_by(d.c.status)
_OWNERS = select(d.c.lease_owner).distinct().where(_ISSUE, d.c.status == DeliveryStatus.SENDING)
_OUTCOME = {
    "status": bindparam("b_status"),
    "reply_code": bindparam("b_code"),
    "reply_text": bindparam("b_text"),
    "message_id": bindparam("b_message_id"),
    "updated_at": bindparam("b_at", type_=d.c.updated_at.type),
    "lease_until": None,
    "next_attempt_at": bindparam("b_next", type_=d.c.next_attempt_at.type),
}
_RECORD_TRIED = update(d).where(d.c.id == bindparam("row_id")).values(**_OUTCOME, attempts=d.c.attempts + 1)
_RECORD_SKIPPED = update(d).where(d.c.id == bindparam("row_id")).values(**_OUTCOME)
# PostgreSQL: an outcome is appended to the log (tables.delivery_outcomes), whatever it is, and folded into
# its row later, many rows in one statement: the log's rows are taken out and written into the outbox at
# once, so an outcome is always in exactly one of the two.
_LOG = insert(o).values(
    delivery_id=bindparam("row_id"),
    status=bindparam("b_status"),
    tried=bindparam("b_tried"),
    reply_code=bindparam("b_code"),
    reply_text=bindparam("b_text"),
    message_id=bindparam("b_message_id"),
    updated_at=bindparam("b_at", type_=o.c.updated_at.type),
    next_attempt_at=bindparam("b_next", type_=o.c.next_attempt_at.type),
)
_LOGGED = delete(o).returning(*o.c).cte("logged")
_FOLD = (
    update(d)
    .where(d.c.id == _LOGGED.c.delivery_id)
    .values(
        status=_LOGGED.c.status,
        attempts=d.c.attempts + case((_LOGGED.c.tried, 1), else_=0),
        reply_code=_LOGGED.c.reply_code,
        reply_text=_LOGGED.c.reply_text,
        message_id=_LOGGED.c.message_id,
        updated_at=_LOGGED.c.updated_at,
        lease_until=None,
        next_attempt_at=_LOGGED.c.next_attempt_at,
    )
)


_CURSOR = "outbox.cursor"  # key of a worker connection's own driver cursor in its ``info``


class Direct:
    """A statement compiled once for one dialect and run on the driver's own cursor (on psycopg in
    autocommit, a PostgreSQL worker's connection: prepared on it once and run through libpq).

    A message's outcome is written once per message, 20,000 times in a send of 20,000: SQLAlchemy's work
    around each execution (the compiled-cache lookup, building and processing the parameters, wrapping
    the result) cost more CPU than SQLite's own. Here the SQL text, the order of its parameters and each
    parameter's bind processor (the same ones SQLAlchemy would apply: an aware datetime becomes SQLite's
    text, …) are worked out once; each run only fills them in."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        # On psycopg, with $n placeholders: the statement is prepared by name once per connection and run
        # through libpq as it is (``run_many``).
        self.prepared = f"digest_{next(_NAMES)}".encode() if dialect.driver == "psycopg" else None
        if self.prepared is not None:
            dialect = cast(Any, type(dialect))(paramstyle="numeric_dollar")
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order: list[str] | None = list(compiled.positiontup) if compiled.positiontup is not None else None
        self.constants = {name: bind.effective_value for name, bind in compiled.binds.items()}
        self.processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.constants, **values}
        for name, processor in self.processors.items():
            merged[name] = processor(merged[name])
        return merged if self.order is None else [merged[name] for name in self.order]

    @staticmethod
    def run_many(conn: Connection, work: Sequence[tuple[Direct, Sequence[dict[str, Any]]]]) -> None:
        """Execute each statement with each of its value sets, then commit once, on ``conn``'s driver
        connection with a cursor kept on it (no transaction of SQLAlchemy's may be open on ``conn``). On a
        connection in autocommit each statement commits itself."""
        if conn.in_transaction():  # the driver's commit below would end it behind SQLAlchemy's back
            raise RuntimeError("Direct.run_many needs a connection with no SQLAlchemy transaction open on it")
        driver = conn.connection.driver_connection
        assert driver is not None
        committed = getattr(driver, "autocommit", None) is True  # each statement by itself
        pgconn = getattr(driver, "pgconn", None) if committed else None
        if pgconn is not None:  # psycopg, a PostgreSQL worker's connection
            Direct._run_prepared(conn, pgconn, work)
            return
        cursor = conn.info.get(_CURSOR)
        if cursor is None:
            cursor = conn.info[_CURSOR] = driver.cursor()
        try:
            for statement, rows in work:
                if len(rows) == 1:  # the usual group: executemany's own work (a pipeline, on psycopg) for one
                    cursor.execute(statement.sql, statement.parameters(rows[0]))
                else:
                    cursor.executemany(statement.sql, [statement.parameters(values) for values in rows])
            if not committed:
                driver.commit()
        except BaseException:
            if not committed:
                driver.rollback()
            raise

    @staticmethod
    def _run_prepared(conn: Connection, pgconn: Any, work: Sequence[tuple[Direct, Sequence[dict[str, Any]]]]) -> None:
        """``run_many`` on a psycopg connection in autocommit: each statement prepared once on it and then
        executed through libpq with its parameters in PostgreSQL's text format (each statement is typed:
        ``$1::VARCHAR``). psycopg's cursor would convert the query and adapt each parameter anew for every
        message: 80 µs of the sender's CPU a statement where this takes 52 (a loop of 5,000 on loopback)."""
        ready: set[bytes] = conn.info.setdefault(_PREPARED, set())
        for statement, rows in work:
            name = statement.prepared
            assert name is not None, "a statement compiled for psycopg"
            if name not in ready:
                _check(pgconn, pgconn.prepare(name, statement.sql.encode()))
                ready.add(name)
            for values in rows:
                params = [_text(v) for v in statement.parameters(values)]
                _check(pgconn, pgconn.exec_prepared(name, params))


_NAMES = itertools.count(1)
_PREPARED = "outbox.prepared"  # key of the names a worker connection has prepared, in its ``info``


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().encode()
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode()


def _check(pgconn: Any, result: Any) -> None:
    """Raise the error of a failed libpq call as psycopg would (``psycopg.errors``)."""
    from psycopg import errors, pq

    if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        raise errors.error_from_result(result, encoding=pgconn.parameter_status(b"client_encoding").decode())


class Deliveries:
    """The deliveries table as a whole: counts per issue, and an outbox per sender."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def counts(self, issue_id: int) -> dict[str, int]:
        with self.engine.begin() as conn:
            return {str(k): int(n) for k, n in conn.execute(_COUNTS, {"b_issue": issue_id})}

    def prune(self, before: datetime) -> int:
        """Delete finished delivery rows last changed before ``before``; how many went."""
        finished = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
        with self.engine.begin() as conn:  # feedback events about them stay (each applied once), unlinked
            return _delete(conn, and_(d.c.status.in_(finished), d.c.updated_at < before))

    @staticmethod
    def erase_subscriber(conn: Connection, subscriber_id: int) -> int:
        """Delete one person's delivery rows (address, message id and server replies go with them)."""
        return _delete(conn, d.c.subscriber_id == subscriber_id)

    def outbox(self, issue_id: int, owner: str, lease: timedelta) -> Outbox:
        return Outbox(self.engine, issue_id, owner, lease)


class Outbox:
    """The deliveries of one issue seen by one process sending it (``owner``); rows it claims are leased
    for ``lease`` unless renewed."""

    def __init__(self, engine: Engine, issue_id: int, owner: str, lease: timedelta) -> None:
        self.engine, self.issue_id, self.owner, self.lease = engine, issue_id, owner, lease
        self.postgres = engine.dialect.name == "postgresql"
        # SQLite has one writer: this process's workers take turns here rather than in SQLite's busy
        # handler, whose growing sleeps would cost far more than the writes themselves.
        self._turn: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        self._record = _direct_records(engine.dialect)

    def take_turns_with(self, lock: contextlib.AbstractContextManager[Any]) -> None:
        """Share the SQLite writer's turn with other processes (a multiprocessing lock); a no-op on
        PostgreSQL, whose row locks need no turns."""
        if not self.postgres:
            self._turn = lock

    @contextlib.contextmanager
    def _write(self, conn: Connection) -> Iterator[None]:
        """One short write transaction on a worker's connection."""
        with self._turn, conn.begin():
            yield

    def connect(self) -> Connection:
        """A connection for one worker, kept for the whole send (one commit per message); ``disconnect``
        closes it."""
        conn = self.engine.connect()
        if self.postgres:
            # Each of a worker's statements (claim, outcome, renewal) stands alone: in autocommit it is its
            # own transaction, one round trip to the server instead of three (BEGIN, statement, COMMIT).
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            # A commit returns once the server has it, before its WAL reaches the disk: a killed sender
            # loses nothing, only a crash of the database server can (the same trade as SQLite's below).
            conn.exec_driver_sql("SET synchronous_commit TO OFF")
        elif self.engine.dialect.name == "sqlite":
            # WAL without an fsync per commit: a killed process loses nothing committed; only a power
            # cut can take back the last commits (see the crash window in docs/delivery.md).
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        conn.commit()
        return conn

    def disconnect(self, conn: Connection) -> None:
        """Close a worker's connection for good, never back to the pool: its relaxed commits serve no
        other transaction."""
        conn.invalidate()
        conn.close()

    def enqueue(self) -> int:
        """One row per mailable subscriber not yet queued; returns how many were added."""
        chosen = select(literal(self.issue_id), s.c.id, literal(DeliveryStatus.PENDING.value), literal(0)).where(
            mailable
        )
        cols = ["issue_id", "subscriber_id", "status", "attempts"]
        dialect = postgresql if self.postgres else sqlite
        stmt = (
            dialect.insert(d)
            .from_select(cols, chosen)
            .on_conflict_do_nothing(index_elements=["issue_id", "subscriber_id"])
            .execution_options(preserve_rowcount=True)  # SQLAlchemy keeps an INSERT's count only when asked
        )
        with self.engine.begin() as conn:
            added = int(conn.execute(stmt).rowcount or 0)
        if added and self.postgres:
            # The planner's picture of both tables before the claims: a week's rows were just added, and
            # tables new or grown since autovacuum last looked (a first send, an import just before) had it
            # read the subscribers whole for each claim's 100 lookups (14 ms at 20,000) instead of by key.
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f"ANALYZE {d.name}, {s.name}")
        return added

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            return {str(k): int(n) for k, n in conn.execute(_COUNTS, {"b_issue": self.issue_id})}

    def last_row(self) -> int | None:
        """The highest id among this issue's rows still to send (None: none is left)."""
        with self.engine.begin() as conn:
            last = conn.scalar(_LAST, {"b_issue": self.issue_id})
        return None if last is None else int(last)

    def owners(self) -> list[str]:
        """Who holds rows of this issue in flight."""
        with self.engine.begin() as conn:
            return [o for o in conn.scalars(_OWNERS, {"b_issue": self.issue_id}) if o]

    def reclaim(self, owner: str) -> int:
        """Free the rows ``owner`` has in flight (it is gone); returns how many."""
        with self.engine.begin() as conn:
            return self._release(conn, d.c.lease_owner == owner)

    def _release(self, conn: Connection, where: Any) -> int:
        done = conn.execute(
            update(d)
            .where(d.c.issue_id == self.issue_id, d.c.status == DeliveryStatus.SENDING, where)
            .values(
                status=case((d.c.attempts > 0, DeliveryStatus.DEFERRED.value), else_=DeliveryStatus.PENDING.value),
                lease_owner=None,
                lease_until=None,
            )
        )
        return int(done.rowcount or 0)

    def release(self, conn: Connection, ids: Sequence[int]) -> None:
        """Give back claimed rows not tried (the send stops)."""
        if ids:
            with self._write(conn):
                self._release(conn, and_(d.c.id.in_(list(ids)), d.c.lease_owner == self.owner))

    def claim(self, conn: Connection, limit: int) -> list[tuple[int, int, Subscriber]]:
        """Lease up to ``limit`` rows: (delivery id, attempts so far, subscriber). Rows of subscribers who
        are no longer mailable (left or paused since they were queued) are dropped: a later send queues
        them again if they return."""
        at = now()
        with self._write(conn):
            taken = sorted(
                conn.execute(
                    _CLAIM[self.postgres],
                    {"b_issue": self.issue_id, "at": at, "limit": limit, "owner": self.owner, "until": at + self.lease},
                ).all()
            )
            if not taken:
                return []
            wanted = sorted({row.subscriber_id for row in taken})
            people = {p.subscriber_id: _subscriber(p) for p in conn.execute(_PEOPLE[self.postgres], {"ids": wanted})}
            # A subscriber erased meanwhile took their outbox rows along (PostgreSQL's workers commit each
            # statement by itself): nothing of theirs is left to send or to drop.
            rows = [(r.id, r.attempts, people[r.subscriber_id]) for r in taken if r.subscriber_id in people]
            gone = [row_id for row_id, _, sub in rows if not sub.mailable]
            if gone:
                conn.execute(_FORGET[self.postgres], {"ids": gone})
        return [r for r in rows if r[2].mailable]

    def renew(self, conn: Connection, ids: Sequence[int]) -> datetime:
        until = now() + self.lease
        with self._write(conn):
            conn.execute(_RENEW[self.postgres], {"ids": list(ids), "owner": self.owner, "until": until})
        return until

    def next_due(self, conn: Connection) -> float | None:
        """Seconds until the earliest open row may be tried; None when no row is open. Logged outcomes are
        folded in first: a deferral still in the log is a retry owed."""
        with self._write(conn):
            fold_outcomes(conn)
            row = conn.execute(_NEXT_DUE, {"b_issue": self.issue_id}).one()
        if not row[0]:
            return None
        return 0.0 if row[1] is None else max(0.0, (row[1] - now()).total_seconds())

    def fold(self) -> int:
        """Write the logged outcomes into their outbox rows (PostgreSQL; nothing to do on SQLite, which
        writes the rows themselves); how many were folded in. Any process may fold any send's outcomes."""
        if not self.postgres:
            return 0
        with self.engine.begin() as conn:
            return fold_outcomes(conn)

    def recorder_connection(self) -> Connection:
        """The connection of a send's one writer of outcomes on SQLite (digest/delivery/recorder.py), kept
        for the whole send; ``disconnect`` closes it. Its commits wait for no disk, as a worker's (see
        ``connect``), and never checkpoint."""
        conn = self.engine.connect()
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        # No checkpoint inside the writer's commit: it would copy the log into the database and fsync
        # while every worker waits for its outcome. ``checkpoint`` does that beside the writer.
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        conn.commit()
        return conn

    def checkpoint(self, conn: Connection) -> None:
        """Copy SQLite's write-ahead log into the database as far as readers allow (PASSIVE: it waits for
        no writer and no writer waits for it); a no-op on PostgreSQL."""
        if not self.postgres:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
            conn.commit()

    def record(self, conn: Connection, outcomes: Sequence[Outcome]) -> None:
        """Messages' outcomes, committed before this returns: in one transaction, or each in its own on a
        connection in autocommit (a PostgreSQL worker's, see ``connect``; there each is appended to the
        outcome log, which ``fold`` writes into the outbox). ``Outcome.tried`` counts an attempt;
        ``Outcome.bounce`` names a subscriber to mark bounced, in one transaction with its outcome and
        history line (on a connection of the pool), written into its row at once."""
        plain: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        marked: list[tuple[Outcome, dict[str, Any]]] = []
        for outcome in outcomes:
            params = _outcome_params(outcome)
            if outcome.bounce is None:
                plain[outcome.tried].append(params)
            else:
                marked.append((outcome, params))
        with self._turn:
            if not marked:  # nearly every group: the UPDATEs straight to the driver
                Direct.run_many(conn, [(self._record[tried], rows) for tried, rows in plain.items() if rows])
                return
            with self.engine.begin() as tx:
                for tried, rows in plain.items():
                    if rows:
                        tx.execute(_RECORD_TRIED if tried else _RECORD_SKIPPED, rows)
                for outcome, params in marked:
                    tx.execute(_RECORD_TRIED if outcome.tried else _RECORD_SKIPPED, params)
                    assert outcome.bounce is not None
                    detail = f"{outcome.code} {(outcome.text or '')[:200]}".strip()
                    lifecycle.move(tx, outcome.bounce, Change.BOUNCE, source="smtp", detail=detail, at=params["b_at"])


@dataclass(frozen=True)
class Outcome:
    """What became of one message (a row of the outbox): its new status and the server's reply."""

    row_id: int
    status: DeliveryStatus
    tried: bool  # an attempt was made (not a skip)
    code: int | None = None
    text: str | None = None
    message_id: str | None = None
    retry_in: float | None = None  # seconds until a deferred row may be tried again
    bounce: int | None = None  # the subscriber to mark bounced


def fold_outcomes(conn: Connection) -> int:
    """Write the outcomes in PostgreSQL's log into their outbox rows, on ``conn`` (in its transaction, if
    one is open); how many. Nothing to do on SQLite, which writes the rows themselves."""
    return int(conn.execute(_FOLD).rowcount or 0) if conn.dialect.name == "postgresql" else 0


def _delete(conn: Connection, where: ColumnElement[bool]) -> int:
    """Delete the outbox rows that match ``where``, with what points at them and their outcomes still in
    the log (which has no foreign key to follow: tables.delivery_outcomes); how many rows went."""
    conn.execute(delete(o).where(o.c.delivery_id.in_(select(d.c.id).where(where))))
    return delete_with_dependents(conn, d, where)


def _outcome_params(outcome: Outcome) -> dict[str, Any]:
    at = now()
    return {
        "row_id": outcome.row_id,
        "b_status": outcome.status.value,
        "b_code": outcome.code,
        "b_text": (outcome.text or "")[:1000] or None,
        "b_message_id": outcome.message_id,
        "b_at": at,
        "b_next": at + timedelta(seconds=outcome.retry_in) if outcome.retry_in is not None else None,
        "b_tried": outcome.tried,
    }


@functools.cache
def _direct_records(dialect: Dialect) -> dict[bool, Direct]:
    """The outcome statements (tried, skipped), compiled for ``dialect``: once per process. On PostgreSQL
    both append to the log, which carries ``tried`` as a value."""
    if dialect.name == "postgresql":
        log = Direct(_LOG, dialect)
        return {True: log, False: log}
    return {True: Direct(_RECORD_TRIED, dialect), False: Direct(_RECORD_SKIPPED, dialect)}


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        id=row.subscriber_id,
        email=row.email,
        name=row.name,
        status=row.status,
        paused=bool(row.paused),
        topics=frozenset(x for x in row.topics.split(",") if x),
        jurisdictions=frozenset(x for x in (row.jurisdictions or "").split(",") if x),
    )
