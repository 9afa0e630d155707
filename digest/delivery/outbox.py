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
The outbox's statements (enqueue, claim, record, …) are in digest/db/deliveries.py.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from ..db import Database
from ..db.deliveries import UNFINISHED, Outbox
from ..errors import DeliveryError
from ..issue import archive
from ..models import DeliveryStatus, Issue, IssueStatus
from .lease import gone, process_owner
from .recorder import Recorder
from .run import DeliveryReport, MessageFor, Progress, SendOptions, SendRun, in_threads
from .transport import Transport

__all__ = ["DeliveryReport", "Progress", "SendOptions", "deliver", "reclaim_dead"]

log = logging.getLogger(__name__)


def reclaim_dead(outbox: Outbox) -> int:
    """Free rows leased by processes on this host that no longer run (killed mid-send)."""
    freed = sum(outbox.reclaim(owner) for owner in outbox.owners() if gone(owner))
    if freed:
        log.warning("%d messages were in flight when an earlier send stopped; they are sent again", freed)
    return freed


def deliver(
    issue: Issue,
    db: Database,
    transports: Callable[[], Transport],
    message_for: MessageFor,
    options: SendOptions | None = None,
    progress: Progress | None = None,
    owner: str | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Send ``issue`` to every active subscriber through the outbox; resumable at any point, and safe to
    run in several processes at once (each claims its own rows).

    ``should_stop`` is asked before each message; when it says yes, the messages in flight finish and are
    recorded, the rest stay queued, and the issue stays "sending" for the next run to resume."""
    options = options or SendOptions()
    report = DeliveryReport()
    archive.record(db, issue)  # its stories, with their numbers, join the searchable archive (once)
    if issue.status == IssueStatus.DRAFT:
        db.issues.set_status(issue.id, IssueStatus.SENDING)
    outbox = db.deliveries.outbox(issue.id, owner or process_owner(), timedelta(seconds=options.lease_seconds))
    added = outbox.enqueue()
    report.enqueue_seconds = time.monotonic() - report.started
    outbox.fold()  # outcomes an earlier send logged and did not fold in (it was killed): those rows were sent
    reclaim_dead(outbox)
    counts = outbox.counts()
    report.already = counts.get(DeliveryStatus.SENT, 0)
    report.total = sum(counts.get(k, 0) for k in UNFINISHED)
    log.info("outbox for issue %s: %d queued now, %s", issue.week, added, counts)
    # a small send is spread over every connection (and process) rather than claimed whole by the first
    share = -(-report.total // (4 * max(1, options.concurrency)))
    options = replace(options, batch=max(1, min(options.batch, share)))
    run = SendRun(outbox, report, options, message_for, progress, should_stop)
    run.last_row = outbox.last_row()
    forks = min(options.processes, options.concurrency) > 1
    recorder = Recorder(outbox, options.concurrency, niceness=options.niceness if forks else 0)
    try:
        if forks:
            from .workers import in_processes

            in_processes(run, transports, recorder)
        else:
            with recorder.running():
                in_threads(run, transports, [recorder.link(i) for i in range(max(1, options.concurrency))])
    except BaseException:
        with contextlib.suppress(Exception):  # what the workers logged before it broke off; its error first
            outbox.fold()
        raise
    finally:
        report.seconds = time.monotonic() - report.started
    outbox.fold()  # the last outcomes the workers logged (PostgreSQL)
    left = outbox.counts()
    report.deferred = left.get(DeliveryStatus.DEFERRED, 0)
    if not any(left.get(k, 0) for k in UNFINISHED):
        db.issues.set_status(issue.id, IssueStatus.SENT)
    if run.error is not None:
        if isinstance(run.error, DeliveryError):
            raise run.error
        raise DeliveryError(f"the send stopped: {run.error}") from run.error
    if report.sent == 0 and (report.failed or report.deferred):
        raise DeliveryError(
            f"the mail server accepted none of {report.failed + report.deferred} messages; "
            "see the deliveries table for its replies and check the SMTP settings"
        )
    return report
