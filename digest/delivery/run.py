"""A send's run: its options and report, the state its workers share, and the worker threads.

Each worker holds one database connection and one SMTP connection, claims rows of the outbox in batches,
sends each message and has its outcome committed (digest/delivery/recorder.py) before the next message on
that connection, overlapping that wait with carrying the next message (see ``Transport``): the message
after this one is made while this one's content is on its way, and its commands go with this one's final
dot. ``in_threads`` runs the workers of this process; digest/delivery/workers.py forks processes that each
run their own.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from subscribers.model import Subscriber

from ..db.deliveries import Outbox, Outcome
from ..errors import DeliveryError
from ..issue.message import Envelope
from ..models import DeliveryStatus
from .recorder import Outcomes
from .transport import Next, SendResult, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOptions:
    concurrency: int = 4  # SMTP connections in parallel (one thread each), over all processes
    processes: int = 1  # worker processes sharing those connections (see digest/workers.py)
    niceness: int = 10  # added to the worker processes' nice value: a send yields the CPU to the
    # mail server, the database and the web side on the same host
    rate: float | None = None  # messages per second, overall; None: as fast as the server takes them
    batch: int = 100  # rows claimed at a time by one worker
    lease_seconds: float = 300.0  # a claim not renewed for this long is free for another worker
    max_attempts: int = 5  # tries per message on 4xx, dropped connections and timeouts
    retry_seconds: float = 5.0  # first retry delay; doubled each time, with ±50 % jitter
    retry_cap: float = 600.0  # longest delay between tries
    abort_after: int = 10  # this many failures in a row (no 250 between) stop the send


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
    enqueue_seconds: float = 0.0  # from the start until every message was queued
    first_seconds: float | None = None  # from the start until the first outcome was known

    def note_first(self) -> None:
        if self.first_seconds is None and (self.done or self.deferred):
            self.first_seconds = time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    @property
    def in_words(self) -> str:
        """The outcome in words: "S sent, F failed, D deferred, A already sent earlier, K skipped"."""
        return (
            f"{self.sent} sent, {self.failed} failed, {self.deferred} deferred, "
            f"{self.already} already sent earlier, {self.skipped} skipped"
        )

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped


MessageFor = Callable[[Subscriber], Envelope | None]
Progress = Callable[[DeliveryReport], None]


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


class SendRun:
    """State shared by the workers of one send."""

    def __init__(
        self,
        outbox: Outbox,
        report: DeliveryReport,
        options: SendOptions,
        message_for: MessageFor,
        progress: Progress | None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.outbox, self.report, self.options = outbox, report, options
        self.should_stop = should_stop
        self.message_for, self.progress = message_for, progress
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self.in_a_row = 0
        self.last: SendResult | None = None
        self.limit = RateLimit(options.rate) if options.rate else None
        self.last_row: int | None = None  # the highest row id of the send when it started (see ``_claim_size``)

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc
        self.stop.set()

    def account(self, kind: str, result: SendResult | None) -> None:
        with self.lock:
            setattr(self.report, kind, getattr(self.report, kind) + 1)
            self.report.note_first()
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
                        "`digest send` again to resume"
                    )
                    self.stop.set()
            if self.progress is not None:
                self.progress(self.report)

    def backoff(self, attempts: int) -> float:
        o = self.options
        delay: float = min(o.retry_cap, o.retry_seconds * 2.0 ** (attempts - 1))
        return delay * random.uniform(0.5, 1.5)


def _work(run: SendRun, transport: Transport, link: Outcomes) -> None:
    outbox, o = run.outbox, run.options
    conn = outbox.connect()
    link.bind(conn)
    ahead = _Ahead(run, conn)
    renew_at = time.monotonic() + o.lease_seconds / 2
    try:
        while not run.stop.is_set():
            if not ahead.rows and not ahead.claim():
                # This worker's last outcome first: until the recorder has committed it, a row it deferred
                # still reads as in flight, and the send would end without its retry.
                link.wait()
                wait = outbox.next_due(conn)
                if wait is None:
                    return
                run.stop.wait(min(max(wait, 0.01), 1.0))
                continue
            if run.should_stop is not None and not run.stop.is_set() and run.should_stop():
                run.report.stopped = True
                run.stop.set()
            if run.stop.is_set():
                break
            if time.monotonic() > renew_at:
                outbox.renew(conn, sorted(ahead.held))
                renew_at = time.monotonic() + o.lease_seconds / 2
            (row_id, attempts, sub), envelope = ahead.take()
            _one(run, conn, transport, link, row_id, attempts, sub, envelope, ahead.after, ahead.meanwhile)
            ahead.done()
    except DeliveryError as exc:  # said in words (a lost connection, an outcome not recorded): the send stops
        run.fail(exc)
    except BaseException as exc:
        run.fail(exc)
        raise
    finally:
        try:
            link.wait()
            outbox.release(conn, sorted(ahead.held))
        finally:
            outbox.disconnect(conn)
            transport.close()


def _claim_size(run: SendRun, after: int | None) -> int:
    """Rows to claim next: a share of what is left, so that the connections finish together rather than one
    of them sending a whole batch alone at the end (guided self-scheduling). What is left is counted from
    the rows' ids, which a send's enqueue hands out in a row: no shared count is needed across processes."""
    o = run.options
    if after is None or run.last_row is None:
        return o.batch
    left = max(0, run.last_row - after)
    return max(1, min(o.batch, -(-left // (2 * max(1, o.concurrency)))))


Row = tuple[int, int, Subscriber]  # a claimed row: delivery id, attempts so far, subscriber


class _Ahead:
    """A worker's claimed rows in order, each message made once: the next one while this one is carried,
    and the next batch claimed then when this one is the last of its batch, so that the next message's
    commands can go with this one's final dot (see ``Transport``)."""

    def __init__(self, run: SendRun, conn: Connection) -> None:
        self.run, self.conn = run, conn
        self.rows: deque[Row] = deque()
        self.held: set[int] = set()  # leased by this worker and not yet tried
        self.last: int | None = None  # the highest row id claimed so far
        self.made: dict[int, Envelope | None] = {}
        self.error: BaseException | None = None

    def claim(self) -> bool:
        """Claim the next batch; False when no row is free now."""
        rows = self.run.outbox.claim(self.conn, _claim_size(self.run, self.last))
        self.rows.extend(rows)
        self.held.update(row_id for row_id, _, _ in rows)
        if rows:
            self.last = max(row_id for row_id, _, _ in rows)
        return bool(rows)

    def make(self, k: int) -> Envelope | None:
        """The message of the ``k``-th row from now, made once."""
        if k >= len(self.rows):
            return None
        row_id, _, sub = self.rows[k]
        if row_id not in self.made and self.error is None:
            try:
                self.made[row_id] = self.run.message_for(sub)
            except Exception as exc:  # raised by ``take``, once the message in flight is answered
                self.error = exc
        return self.made.get(row_id)

    def after(self) -> Envelope | None:
        """The message after this one, made now; None when the transport must not send its commands ahead:
        there is none, or a rate limit spaces the messages (the server would wait in DATA mode)."""
        run = self.run
        if run.limit is not None or run.stop.is_set():
            self.make(1)
            return None
        if len(self.rows) == 1:
            self.claim()
        return self.make(1)

    def meanwhile(self) -> None:
        """While this message's reply is on its way: the message after the next one made now, so that the
        next message's ``after`` finds it ready; and when the batch is about to end, the next one claimed."""
        if self.run.stop.is_set() or self.error is not None:
            return
        if len(self.rows) == 2:
            try:
                self.claim()
            except Exception as exc:  # raised by ``take``, once the message in flight is answered and recorded
                self.error = exc
                return
        self.make(2)

    def take(self) -> tuple[Row, Envelope | None]:
        row = self.rows[0]
        self.make(0)
        if self.error is not None:
            raise self.error
        return row, self.made.pop(row[0])

    def done(self) -> None:
        row_id, _, _ = self.rows.popleft()
        self.held.discard(row_id)


def _one(
    run: SendRun,
    conn: Connection,
    transport: Transport,
    link: Outcomes,
    row_id: int,
    attempts: int,
    sub: Subscriber,
    envelope: Envelope | None,
    then: Next,
    meanwhile: Callable[[], None],
) -> None:
    """Send one message once the previous outcome on ``link`` is committed (``link.wait``, at the last
    moment before delivery: see ``Transport``), and post its own outcome."""
    o = run.options
    if envelope is None:
        link.post(Outcome(row_id, DeliveryStatus.SKIPPED, tried=False, text="nothing in this issue for their topics"))
        run.account("skipped", None)
        return
    result = _send(run, conn, transport, row_id, envelope, link.wait, then, meanwhile)
    if result is None:  # stopped while the server held us back: the row goes back untried
        run.outbox.release(conn, [row_id])
        return

    def record(
        status: DeliveryStatus, note: str = "", retry_in: float | None = None, bounce: int | None = None
    ) -> None:
        link.post(
            Outcome(
                row_id,
                status,
                tried=True,
                code=result.code,
                text=note + result.text,
                message_id=envelope.message_id,
                retry_in=retry_in,
                bounce=bounce,
            )
        )

    if result.ok:
        record(DeliveryStatus.SENT)
        run.account("sent", result)
    elif result.stage == "mail" and result.permanent and result.code != 503:  # 503: out of step, try again
        run.outbox.release(conn, [row_id])
        run.fail(
            DeliveryError(
                f"the mail server refuses the sender address {envelope.sender}: {result.code} "
                f"{result.text}. Check `sender` in digest.toml and the SMTP login"
            )
        )
    elif result.permanent and result.stage != "mail":
        record(DeliveryStatus.FAILED, bounce=sub.id)
        log.warning("%s refused permanently (%d %s); marked bounced", sub.email, result.code, result.text)
        run.account("failed", result)
    elif attempts + 1 >= o.max_attempts:
        record(DeliveryStatus.FAILED, note=f"gave up after {attempts + 1} attempts; last reply: ")
        log.warning("%s: gave up after %d attempts (%d %s)", sub.email, attempts + 1, result.code, result.text)
        run.account("failed", result)
    else:
        delay = run.backoff(attempts + 1)
        record(DeliveryStatus.DEFERRED, retry_in=delay)
        log.info("%s deferred (%d %s); retry in %.1f s", sub.email, result.code, result.text, delay)
        run.account("deferred", result)


def _send(
    run: SendRun,
    conn: Connection,
    transport: Transport,
    row_id: int,
    envelope: Envelope,
    ready: Callable[[], None],
    then: Next,
    meanwhile: Callable[[], None],
) -> SendResult | None:
    """The server's reply to one message. A throttling reply ("too many connections", 421, a 4xx to the
    connection or the sender) is not the message's fault: this connection waits (doubling, with jitter)
    and tries the same message again, so the send slows to what the server takes; only after
    ``abort_after`` such replies in a row does the message count as deferred. None: stopped meanwhile."""
    o = run.options
    throttles = 0
    while True:
        if run.limit is not None:
            run.limit.wait(run.stop)
        result = transport.send(envelope, ready, then, meanwhile)
        if not result.throttled or throttles + 1 >= o.abort_after:
            return result
        throttles += 1
        delay = min(run.backoff(throttles), o.lease_seconds / 4)
        log.info("the server holds back (%d %s); this connection waits %.1f s", result.code, result.text, delay)
        if run.stop.wait(delay):
            return None
        run.outbox.renew(conn, [row_id])


def in_threads(run: SendRun, transports: Callable[[], Transport], links: Sequence[Outcomes]) -> None:
    """The workers of this process: one thread, one SMTP connection, one database connection (for claims)
    and one link to the send's recorder each."""
    workers = [
        threading.Thread(target=_work, args=(run, transports(), link), name=f"send-{i}", daemon=True)
        for i, link in enumerate(links)
    ]
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
