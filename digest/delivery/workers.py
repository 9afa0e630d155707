"""A send spread over worker processes: Python runs one thread at a time, so beyond one core a send's
connections are split between forked processes, each with its own threads, database and SMTP connections.

The parent has already enqueued the outbox and reclaimed dead leases (digest/delivery/outbox.py); the children
only claim, send and record, under the parent's lease owner, exactly as threads of one process would:
each outcome is committed before that connection carries the next message. A child dies with its parent
(Linux's parent-death signal; elsewhere it stops before its next message once the parent is gone), so
killing a send still leaves at most one message per connection unrecorded, leased by a process that no
longer runs, which the next send on this host takes back at once.

The parent relays the children's counts to the progress callback, asks ``should_stop`` (which renews the
issue's lease) and tells the children to stop; a child's error stops the others and is raised by the parent.
The children run at a lower CPU priority (``SendOptions.niceness``, nice 10 by default): a send is batch
work, and on a host it shares with the mail server, the database or the web side (one-click unsubscribes
answered while it runs), those are served first; on an idle host it changes nothing. So do the threads of
the parent's recorder (digest/delivery/recorder.py), which commit the children's outcomes; the parent's
own thread keeps its priority. A worker's threads are never niced apart, since a thread descheduled
while holding the interpreter's lock would hold up the others of its process.

A process that is told to stop (the daemon on SIGTERM) calls ``stop_all`` so its children hear it at once,
not at the parent's next look.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import DeliveryError

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from .recorder import Outcomes, Recorder
    from .run import DeliveryReport, SendRun
    from .transport import Transport

COUNTS = ("sent", "failed", "deferred", "skipped")
POST_EVERY = 0.1  # seconds between a child's progress messages
LOOK_EVERY = 0.02  # seconds between a child's looks at the stop event and its parent (a lock each time)
PR_SET_PDEATHSIG = 1

_running: set[Event] = set()  # the stop events of the sends under way in child processes of this one
_running_lock = threading.Lock()


def stop_all() -> None:
    """Tell the children of every send under way here to stop after their messages in flight."""
    with _running_lock:
        for stop in _running:
            stop.set()


def available() -> int:
    """Worker processes a send uses by default: one per core this process may run on, where fork exists."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(cores))


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _child(
    run: SendRun,
    transports: Callable[[], Transport],
    links: list[Outcomes],
    index: int,
    parent: int,
    stop: Event,
    posts: Any,
) -> None:
    from .run import DeliveryReport, SendRun, in_threads

    _die_with_parent(parent)
    if run.options.niceness:
        with contextlib.suppress(OSError):
            os.nice(run.options.niceness)
    run.outbox.engine.dispose(close=False)  # anything the parent opened stays the parent's
    last = 0.0

    def post(rep: DeliveryReport) -> None:
        nonlocal last
        if time.monotonic() - last >= POST_EVERY:
            last = time.monotonic()
            posts.put((index, _counts(rep), False, None))

    looked, stopped = 0.0, False

    def stopping() -> bool:  # asked before each message; the shared event is looked at every LOOK_EVERY
        nonlocal looked, stopped
        if not stopped and time.monotonic() - looked >= LOOK_EVERY:
            looked, stopped = time.monotonic(), stop.is_set() or os.getppid() != parent
        return stopped

    options = replace(run.options, rate=run.options.rate / run.options.processes if run.options.rate else None)
    mine = SendRun(run.outbox, DeliveryReport(), options, run.message_for, post, stopping)
    mine.last_row = run.last_row
    with contextlib.suppress(KeyboardInterrupt):  # the parent has it too, and stops the send
        in_threads(mine, transports, links)
    error = None
    if mine.error is not None:
        error = str(mine.error) if isinstance(mine.error, DeliveryError) else f"the send stopped: {mine.error}"
    posts.put((index, _counts(mine.report), True, error))


def in_processes(run: SendRun, transports: Callable[[], Transport], recorder: Recorder) -> None:
    """Run the send in ``run.options.processes`` forked children sharing ``run.options.concurrency``
    connections, whose outcomes ``recorder`` commits in this process; fills ``run.report`` and
    ``run.error`` as the threads of one process would."""
    ctx = multiprocessing.get_context("fork")
    run.outbox.engine.dispose()  # no open database connection is copied into a child
    n = min(run.options.processes, run.options.concurrency)
    run.options = replace(run.options, processes=n)
    run.outbox.take_turns_with(ctx.Lock())
    stop, posts = ctx.Event(), ctx.Queue()
    with _running_lock:
        _running.add(stop)
    split = [run.options.concurrency // n + (i < run.options.concurrency % n) for i in range(n)]
    first = [sum(split[:i]) for i in range(n)]
    children = [
        ctx.Process(
            target=_child,
            args=(run, transports, [recorder.link(first[i] + j) for j in range(k)], i, os.getpid(), stop, posts),
            name=f"send-process-{i}",
            daemon=True,
        )
        for i, k in enumerate(split)
    ]
    counts: dict[int, tuple[int, ...]] = {}
    finished: set[int] = set()
    # What exists now the children only read: frozen, their collector never walks it (nor copies its pages
    # by touching them); unfrozen in this process once they are gone, so a daemon's later garbage is swept.
    gc.freeze()
    try:
        for child in children:
            child.start()
        with recorder.running():  # its threads start after the fork: they are this process's alone
            _watch(run, children, stop, posts, counts, finished)
    finally:
        stop.set()
        for child in children:
            child.join()
        gc.unfreeze()
        with _running_lock:
            _running.discard(stop)
    if len(finished) < n:
        lost = [c.exitcode for i, c in enumerate(children) if i not in finished]
        run.fail(
            DeliveryError(
                f"a send process ended unexpectedly (exit codes {lost}); run `digest send` "
                "again to resume where it stopped"
            )
        )


def _watch(
    run: SendRun,
    children: list[Any],
    stop: Event,
    posts: Any,
    counts: dict[int, tuple[int, ...]],
    finished: set[int],
) -> None:
    """Relay the children's counts until each has finished (or none runs), and tell them to stop when the
    send should."""
    try:
        while len(finished) < len(children):
            try:
                index, got, final, error = posts.get(timeout=0.2)
            except queue.Empty:
                if not any(c.is_alive() for c in children):
                    break
            else:
                counts[index] = got
                if final:
                    finished.add(index)
                if error is not None:
                    run.fail(DeliveryError(error))
                _sum(run.report, counts)
                run.report.note_first()
                if run.progress is not None:
                    run.progress(run.report)
            if not stop.is_set() and (run.stop.is_set() or (run.should_stop is not None and run.should_stop())):
                run.report.stopped = not run.stop.is_set()
                stop.set()
    finally:  # the children finish their messages in flight while the recorder still commits the outcomes
        if len(finished) < len(children):
            stop.set()
        for child in children:
            child.join()


def _counts(report: DeliveryReport) -> tuple[int, ...]:
    return tuple(getattr(report, k) for k in COUNTS)


def _sum(report: DeliveryReport, counts: dict[int, tuple[int, ...]]) -> None:
    for i, key in enumerate(COUNTS):
        setattr(report, key, sum(c[i] for c in counts.values()))
