"""The deliver stage: an outbox of one row per (issue, subscriber), worked by parallel SMTP connections.

A send first enqueues a row for every active subscriber (one INSERT … SELECT, one transaction;
the unique (issue, subscriber) key makes it idempotent). Workers claim rows in batches under a
lease (owner, until), send each, and record its outcome before the next message on that
connection: status, attempts, the server's reply, Message-ID, time.

Row states::

    pending ──claim──► sending ──250──► sent
       ▲                  │ ├──5xx──► failed (subscriber marked bounced)
       │                  │ └──4xx, drop, timeout──► deferred ──(backoff)──► claimable again
       └── lease expired, or its process is gone (same host) ──┘   … or failed after max attempts

Crash window: a row is "sending" from its claim until its outcome is committed. A process killed
after the server's 250 and before that commit leaves the row leased; the next run sends it again.
That is at most one message per connection (the one whose reply was not yet recorded).
Claiming is ``UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED])``: on PostgreSQL
the row locks let many processes share one send; on SQLite the single guarded UPDATE holds the
database's write lock, so two claims never overlap either.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from subscribers.model import Subscriber

from .db import tables as t
from .errors import DeliveryError, SMTPConnectionError
from .models import Issue
from .store import Store, now
from .transport import Envelope, SendResult, Transport

log = logging.getLogger(__name__)

d, s = t.deliveries, t.subscribers
OPEN = ("pending", "deferred")


@dataclass(frozen=True)
class SendOptions:
    concurrency: int = 4          # SMTP connections in parallel (one thread each)
    rate: float | None = None     # messages per second, overall; None: as fast as the server takes them
    batch: int = 100              # rows claimed at a time by one worker
    lease_seconds: float = 300.0  # a claim not renewed for this long is free for another worker
    max_attempts: int = 5         # tries per message on 4xx, dropped connections and timeouts
    retry_seconds: float = 5.0    # first retry delay; doubled each time, with ±50 % jitter
    retry_cap: float = 600.0      # longest delay between tries
    abort_after: int = 10         # this many failures in a row (no 250 between) stop the send


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    already: int = 0
    total: int = 0  # messages this run set out to send
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    stopped: bool = False

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped


MessageFor = Callable[[Subscriber], Envelope | None]
Progress = Callable[[DeliveryReport], None]


def process_owner() -> str:
    """This process as a lease owner: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outbox:
    """The deliveries table seen by one process sending one issue."""

    def __init__(self, engine: Engine, issue_id: int, owner: str, options: SendOptions) -> None:
        self.engine, self.issue_id, self.owner, self.options = engine, issue_id, owner, options
        self.postgres = engine.dialect.name == "postgresql"
        # SQLite has one writer: this process's workers take turns here rather than in SQLite's busy
        # handler, whose growing sleeps would cost far more than the writes themselves.
        self._turn: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext())

    @contextlib.contextmanager
    def _write(self, conn: Connection) -> Iterator[None]:
        """One short write transaction on a worker's connection."""
        with self._turn, conn.begin():
            yield

    def connect(self) -> Connection:
        """A connection for one worker, kept for the whole send (one commit per message)."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            # WAL without an fsync per commit: a killed process loses nothing committed; only a power
            # cut can take back the last commits (see the README's crash window).
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        conn.commit()
        return conn

    def enqueue(self) -> int:
        """One row per active, unpaused subscriber not yet queued; returns how many were added."""
        chosen = (select(literal(self.issue_id), s.c.id, literal("pending"), literal(0))
                  .where(s.c.status == "active", s.c.paused.is_(False)))
        cols = ["issue_id", "subscriber_id", "status", "attempts"]
        dialect = postgresql if self.postgres else sqlite
        stmt = dialect.insert(d).from_select(cols, chosen).on_conflict_do_nothing(
            index_elements=["issue_id", "subscriber_id"])
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def counts(self) -> dict[str, int]:
        q = select(d.c.status, func.count()).where(d.c.issue_id == self.issue_id).group_by(d.c.status)
        with self.engine.begin() as conn:
            return {str(k): int(n) for k, n in conn.execute(q)}

    def reclaim_dead(self) -> int:
        """Free rows leased by processes on this host that no longer run (killed mid-send)."""
        host, pid = socket.gethostname(), os.getpid()
        freed = 0
        with self.engine.begin() as conn:
            owners = conn.scalars(select(d.c.lease_owner).distinct().where(
                d.c.issue_id == self.issue_id, d.c.status == "sending"))
            for owner in list(owners):
                parts = (owner or "").split(":")
                if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and int(parts[1]) != pid \
                        and not _alive(int(parts[1])):
                    freed += self._release(conn, d.c.lease_owner == owner)
        if freed:
            log.warning("%d messages were in flight when an earlier send stopped; they are sent again", freed)
        return freed

    def _release(self, conn: Connection, where: Any) -> int:
        done = conn.execute(update(d).where(d.c.issue_id == self.issue_id, d.c.status == "sending", where).values(
            status=case((d.c.attempts > 0, "deferred"), else_="pending"), lease_owner=None, lease_until=None))
        return int(done.rowcount or 0)

    def release(self, conn: Connection, ids: Sequence[int]) -> None:
        if ids:
            with self._write(conn):
                self._release(conn, and_(d.c.id.in_(list(ids)), d.c.lease_owner == self.owner))

    def _claimable(self, at: datetime) -> Any:
        due = or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= at)
        return and_(d.c.issue_id == self.issue_id,
                    or_(and_(d.c.status.in_(OPEN), due), and_(d.c.status == "sending", d.c.lease_until < at)))

    def claim(self, conn: Connection, limit: int) -> list[tuple[int, int, Subscriber]]:
        """Lease up to ``limit`` rows: (delivery id, attempts so far, subscriber)."""
        at = now()
        chosen = select(d.c.id).where(self._claimable(at)).order_by(d.c.id).limit(limit)
        if self.postgres:
            chosen = chosen.with_for_update(skip_locked=True)
        with self._write(conn):
            ids = list(conn.scalars(update(d).where(d.c.id.in_(chosen.scalar_subquery())).values(
                status="sending", lease_owner=self.owner, lease_until=at + self.lease).returning(d.c.id)))
            if not ids:
                return []
            rows = conn.execute(select(d.c.id, d.c.attempts, d.c.subscriber_id, s.c.email, s.c.name, s.c.topics,
                                       s.c.status, s.c.paused)
                                .join(s, s.c.id == d.c.subscriber_id).where(d.c.id.in_(ids)).order_by(d.c.id)).all()
            gone = [r.id for r in rows if r.status != "active" or r.paused]
            if gone:  # left or paused since they were queued: a later send queues them again if they return
                conn.execute(delete(d).where(d.c.id.in_(gone)))
        return [(r.id, r.attempts, _subscriber(r)) for r in rows if r.id not in gone]

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.options.lease_seconds)

    def renew(self, conn: Connection, ids: Sequence[int]) -> datetime:
        until = now() + self.lease
        with self._write(conn):
            conn.execute(update(d).where(d.c.id.in_(list(ids)), d.c.lease_owner == self.owner,
                                         d.c.status == "sending").values(lease_until=until))
        return until

    def next_due(self, conn: Connection) -> float | None:
        """Seconds until the earliest open row may be tried; None when no row is open."""
        with self._write(conn):
            row = conn.execute(select(func.count(), func.min(d.c.next_attempt_at)).where(
                d.c.issue_id == self.issue_id, d.c.status.in_(OPEN))).one()
        if not row[0]:
            return None
        return 0.0 if row[1] is None else max(0.0, (row[1] - now()).total_seconds())

    def record(self, conn: Connection, row_id: int, subscriber_id: int, status: str, result: SendResult | None,
               message_id: str | None, retry_in: float | None = None, note: str = "") -> None:
        at = now()
        text = (note + (f"{result.text}" if result else ""))[:1000] or None
        params = {
            "row_id": row_id, "b_status": status, "b_code": result.code if result else None, "b_text": text,
            "b_message_id": message_id, "b_at": at,
            "b_next": at + timedelta(seconds=retry_in) if retry_in is not None else None,
        }
        with self._write(conn):
            conn.execute(_RECORD_TRIED if result is not None else _RECORD_SKIPPED, params)
            if status == "failed" and result is not None and result.permanent:
                conn.execute(update(s).where(s.c.id == subscriber_id, s.c.status == "active")
                             .values(status="bounced", bounced_at=at))


# Built once: recording an outcome is the statement run most often, once per message.
_OUTCOME = {"status": bindparam("b_status"), "reply_code": bindparam("b_code"), "reply_text": bindparam("b_text"),
            "message_id": bindparam("b_message_id"), "updated_at": bindparam("b_at", type_=d.c.updated_at.type),
            "lease_until": None, "next_attempt_at": bindparam("b_next", type_=d.c.next_attempt_at.type)}
_RECORD_TRIED = update(d).where(d.c.id == bindparam("row_id")).values(**_OUTCOME, attempts=d.c.attempts + 1)
_RECORD_SKIPPED = update(d).where(d.c.id == bindparam("row_id")).values(**_OUTCOME)


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(id=row.subscriber_id, email=row.email,
                      name=row.name, status=row.status, paused=bool(row.paused),
                      topics=frozenset(x for x in row.topics.split(",") if x))


class RateLimit:
    """Spaces messages evenly across all workers: at most ``rate`` per second overall."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        with self.lock:
            slot = max(self.next, time.monotonic())
            self.next = slot + self.interval
        delay = slot - time.monotonic()
        if delay > 0:
            stop.wait(delay)


class _Run:
    """State shared by the workers of one send."""

    def __init__(self, outbox: Outbox, report: DeliveryReport, options: SendOptions,
                 message_for: MessageFor, progress: Progress | None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.outbox, self.report, self.options = outbox, report, options
        self.should_stop = should_stop
        self.message_for, self.progress = message_for, progress
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self.in_a_row = 0
        self.last: SendResult | None = None
        self.limit = RateLimit(options.rate) if options.rate else None

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc
        self.stop.set()

    def account(self, kind: str, result: SendResult | None) -> None:
        with self.lock:
            setattr(self.report, kind, getattr(self.report, kind) + 1)
            if kind == "sent":
                self.in_a_row = 0
            elif kind in ("failed", "deferred"):
                self.in_a_row += 1
                self.last = result
                if self.in_a_row >= self.options.abort_after and self.error is None:
                    last = f"{result.code} {result.text}" if result else "no reply"
                    self.error = DeliveryError(
                        f"the mail server refused {self.in_a_row} messages in a row (last reply: {last}); "
                        "the send stopped early. Check the SMTP settings and the server's limits, then run "
                        "`digest send` again to resume")
                    self.stop.set()
            if self.progress is not None:
                self.progress(self.report)

    def backoff(self, attempts: int) -> float:
        o = self.options
        delay: float = min(o.retry_cap, o.retry_seconds * 2.0 ** (attempts - 1))
        return delay * random.uniform(0.5, 1.5)


def _work(run: _Run, transport: Transport) -> None:
    outbox, o = run.outbox, run.options
    conn = outbox.connect()
    held: list[int] = []
    try:
        while not run.stop.is_set():
            rows = outbox.claim(conn, o.batch)
            if not rows:
                wait = outbox.next_due(conn)
                if wait is None:
                    return
                run.stop.wait(min(max(wait, 0.01), 1.0))
                continue
            held = [r[0] for r in rows]
            renew_at = time.monotonic() + o.lease_seconds / 2
            for row_id, attempts, sub in rows:
                if run.should_stop is not None and not run.stop.is_set() and run.should_stop():
                    run.report.stopped = True
                    run.stop.set()
                if run.stop.is_set():
                    break
                if time.monotonic() > renew_at:
                    outbox.renew(conn, held)
                    renew_at = time.monotonic() + o.lease_seconds / 2
                _one(run, conn, transport, row_id, attempts, sub)
                held.remove(row_id)
            outbox.release(conn, held)
            held = []
    except SMTPConnectionError as exc:
        run.fail(exc)
    except BaseException as exc:
        run.fail(exc)
        raise
    finally:
        try:
            outbox.release(conn, held)
        finally:
            conn.close()
            transport.close()


def _one(run: _Run, conn: Connection, transport: Transport, row_id: int, attempts: int, sub: Subscriber) -> None:
    outbox, o = run.outbox, run.options
    envelope = run.message_for(sub)
    if envelope is None:
        outbox.record(conn, row_id, sub.id, "skipped", None, None, note="nothing in this issue for their topics")
        run.account("skipped", None)
        return
    if run.limit is not None:
        run.limit.wait(run.stop)
    result = transport.send(envelope)
    if result.ok:
        outbox.record(conn, row_id, sub.id, "sent", result, envelope.message_id)
        run.account("sent", result)
    elif result.stage == "mail" and result.permanent and result.code != 503:  # 503: out of step, try again
        outbox.release(conn, [row_id])
        run.fail(DeliveryError(f"the mail server refuses the sender address {envelope.sender}: {result.code} "
                               f"{result.text}. Check `sender` in digest.toml and the SMTP login"))
    elif result.permanent and result.stage != "mail":
        outbox.record(conn, row_id, sub.id, "failed", result, envelope.message_id)
        log.warning("%s refused permanently (%d %s); marked bounced", sub.email, result.code, result.text)
        run.account("failed", result)
    elif attempts + 1 >= o.max_attempts:
        outbox.record(conn, row_id, sub.id, "failed", result, envelope.message_id,
                      note=f"gave up after {attempts + 1} attempts; last reply: ")
        log.warning("%s: gave up after %d attempts (%d %s)", sub.email, attempts + 1, result.code, result.text)
        run.account("failed", result)
    else:
        delay = run.backoff(attempts + 1)
        outbox.record(conn, row_id, sub.id, "deferred", result, envelope.message_id, retry_in=delay)
        log.info("%s deferred (%d %s); retry in %.1f s", sub.email, result.code, result.text, delay)
        run.account("deferred", result)


def deliver(issue: Issue, store: Store, transports: Callable[[], Transport], message_for: MessageFor,
            options: SendOptions | None = None, progress: Progress | None = None,
            owner: str | None = None, should_stop: Callable[[], bool] | None = None) -> DeliveryReport:
    """Send ``issue`` to every active subscriber through the outbox; resumable at any point, and safe to
    run in several processes at once (each claims its own rows).

    ``should_stop`` is asked before each message; when it says yes, the messages in flight finish and are
    recorded, the rest stay queued, and the issue stays "sending" for the next run to resume."""
    assert issue.id is not None
    options = options or SendOptions()
    report = DeliveryReport()
    if issue.status == "draft":
        store.set_issue_status(issue.id, "sending")
    outbox = Outbox(store.engine, issue.id, owner or process_owner(), options)
    added = outbox.enqueue()
    outbox.reclaim_dead()
    counts = outbox.counts()
    report.already = counts.get("sent", 0)
    report.total = sum(counts.get(k, 0) for k in (*OPEN, "sending"))
    log.info("outbox for issue %s: %d queued now, %s", issue.week, added, counts)
    # a small send is spread over every connection (and process) rather than claimed whole by the first
    share = -(-report.total // (4 * max(1, options.concurrency)))
    options = replace(options, batch=max(1, min(options.batch, share)))
    run = _Run(outbox, report, options, message_for, progress, should_stop)
    workers = [threading.Thread(target=_work, args=(run, transports()), name=f"send-{i}", daemon=True)
               for i in range(max(1, options.concurrency))]
    try:
        for w in workers:
            w.start()
        for w in workers:
            while w.is_alive():
                w.join(0.5)
    except KeyboardInterrupt:
        run.stop.set()
        for w in workers:
            w.join()
        raise
    finally:
        report.seconds = time.monotonic() - report.started
    left = outbox.counts()
    report.deferred = left.get("deferred", 0)
    if not any(left.get(k, 0) for k in (*OPEN, "sending")):
        store.set_issue_status(issue.id, "sent")
    if run.error is not None:
        if isinstance(run.error, DeliveryError):
            raise run.error
        raise DeliveryError(f"the send stopped: {run.error}") from run.error
    if report.sent == 0 and (report.failed or report.deferred):
        raise DeliveryError(
            f"the mail server accepted none of {report.failed + report.deferred} messages; "
            "see the deliveries table for its replies and check the SMTP settings")
    return report
