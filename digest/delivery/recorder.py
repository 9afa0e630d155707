"""A send's one writer of outcomes: each message's outcome is committed before its connection carries the
next message, and the outcomes of all the send's connections that are waiting at the same moment are
committed together, in one transaction.

Every worker (a thread of this process, or a thread of a forked child, digest/delivery/workers.py) holds a
``Link``: a pipe to the writer. It posts an outcome, may prepare its next message meanwhile, and waits
for the writer's word before it sends that message. The writer, a thread of the process that started the
send, takes what every link has posted, commits it all at once, and answers each link. So:

- the crash guarantee is unchanged: a killed send leaves at most one message per connection whose outcome
  was not committed (a posted outcome not yet committed is lost with the process; the worker had not sent
  anything after it);
- on SQLite, only the writer and the workers' rare claims write, instead of every worker once a message
  with each waiting for the others' turns. PostgreSQL has no single writer to queue for: there each
  worker commits its own outcome, at the same moment (``OwnLink``), in one round trip, appending it to the
  outcome log (tables.delivery_outcomes), which a thread here folds into the outbox a few times a second;
- on SQLite the writer's commits never checkpoint the log (a checkpoint copies it into the database and
  waits for the disk, while every worker waits for its answer): a thread beside it does that.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import multiprocessing
import os
import selectors
import threading
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection as Pipe
from typing import Protocol

from sqlalchemy import Connection

from ..db.deliveries import Outbox, Outcome
from ..errors import DeliveryError
from ..models import DeliveryStatus

log = logging.getLogger(__name__)

LOOK_EVERY = 0.1  # seconds between the writer's looks at whether the send has ended
CHECKPOINT_EVERY = 0.25  # seconds between SQLite checkpoints
FOLD_EVERY = 0.25  # seconds between folds of PostgreSQL's outcome log into the outbox


class Outcomes(Protocol):
    """What a worker holds to have its outcomes committed: ``Link`` (to the recorder) or ``OwnLink``."""

    def bind(self, conn: Connection) -> None: ...

    def post(self, outcome: Outcome) -> None: ...

    def wait(self) -> None: ...


def _refused(error: str) -> DeliveryError:
    return DeliveryError(f"an outcome could not be recorded ({error}); run `digest send` again to resume")


class Link:
    """A worker's end of the recorder's pipe: ``post`` an outcome, then ``wait`` until it is committed."""

    def __init__(self, end: Pipe) -> None:
        self.end = end
        self.waiting = False

    def bind(self, conn: Connection) -> None:
        """The worker's own database connection: not used here, the recorder commits on its own."""

    def post(self, outcome: Outcome) -> None:
        """Hand over an outcome (after waiting for the one before, if any)."""
        self.wait()
        self.end.send_bytes(_pack(outcome))
        self.waiting = True

    def wait(self) -> None:
        """Return once the posted outcome is committed; raises DeliveryError when it could not be."""
        if not self.waiting:
            return
        self.waiting = False
        try:
            error = self.end.recv_bytes().decode("utf-8")
        except EOFError:
            raise DeliveryError(
                "the process recording the send's outcomes is gone; run `digest send` again to resume"
            ) from None
        if error:
            raise _refused(error)


class OwnLink:
    """A worker that commits its own outcomes, on its own connection, at the same moment as a ``Link``'s
    worker waits for the recorder: PostgreSQL needs no single writer (its rows lock one by one), and a
    pipe and a process between would cost more than the one round trip of the commit itself."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.conn: Connection | None = None
        self.pending: Outcome | None = None

    def bind(self, conn: Connection) -> None:
        self.conn = conn

    def post(self, outcome: Outcome) -> None:
        self.wait()
        self.pending = outcome

    def wait(self) -> None:
        outcome, self.pending = self.pending, None
        if outcome is None:
            return
        assert self.conn is not None, "bind the worker's connection first"
        try:
            self.outbox.record(self.conn, [outcome])
        except Exception as exc:
            raise _refused(f"{type(exc).__name__}: {exc}") from exc


class Recorder:
    """The writer of one send's outcomes, with ``links`` links; ``running`` runs it in threads of this
    process. Make it before forking the workers' processes and run it after: the threads are this
    process's own. Beside worker processes it runs at their lower CPU priority (``niceness``), so that a
    web side or a mail server on the same host is served first, as with the workers themselves."""

    def __init__(self, outbox: Outbox, links: int, niceness: int = 0) -> None:
        self.outbox = outbox
        self.niceness = niceness  # added to its threads' nice value (Linux: a thread has its own)
        self._pipes = [] if outbox.postgres else [multiprocessing.Pipe() for _ in range(max(1, links))]
        self._done = threading.Event()

    def link(self, i: int) -> Outcomes:
        """Worker ``i``'s link: to this recorder on SQLite, its own commits on PostgreSQL."""
        return OwnLink(self.outbox) if self.outbox.postgres else Link(self._pipes[i][1])

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._done.clear()
        threads = []
        if self.outbox.postgres:  # each worker commits its own (``OwnLink``) to the log, folded in here
            threads.append(threading.Thread(target=self._folds, name="send-folds", daemon=True))
        else:
            threads.append(threading.Thread(target=self._write, name="send-recorder", daemon=True))
            threads.append(threading.Thread(target=self._checkpoints, name="send-checkpoints", daemon=True))
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self._done.set()
            for thread in threads:
                thread.join()

    def _nice(self) -> None:
        if self.niceness and hasattr(os, "setpriority"):
            me = threading.get_native_id()
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + self.niceness)

    def _write(self) -> None:
        self._nice()
        conn = self.outbox.recorder_connection()
        with selectors.DefaultSelector() as selector:
            for mine, _ in self._pipes:
                selector.register(mine, selectors.EVENT_READ)
            try:
                while selector.get_map():
                    ready = selector.select(LOOK_EVERY)
                    if not ready and self._done.is_set():
                        return
                    group: list[tuple[Pipe, Outcome]] = []
                    for key, _ in ready:  # a link has one outcome at most on its way: it waits for the answer
                        end = key.fileobj
                        assert isinstance(end, Pipe)
                        try:
                            group.append((end, _unpack(end.recv_bytes())))
                        except (EOFError, OSError):  # that worker's process is gone
                            selector.unregister(end)
                    self._commit(conn, group)
            finally:
                self.outbox.disconnect(conn)

    def _commit(self, conn: Connection, group: Sequence[tuple[Pipe, Outcome]]) -> None:
        if not group:
            return
        answer = b""
        try:
            self.outbox.record(conn, [outcome for _, outcome in group])
        except Exception as exc:  # each waiting worker raises it, and the send stops
            answer = f"{type(exc).__name__}: {exc}".encode()
        for end, _ in group:
            with contextlib.suppress(OSError):
                end.send_bytes(answer)

    def _folds(self) -> None:
        """PostgreSQL: the workers' logged outcomes written into the outbox every ``FOLD_EVERY`` seconds
        (the send's end folds the rest: ``outbox.deliver``). A failed fold is said and tried again: the
        outcomes wait in the log meanwhile, and a worker out of rows folds before it looks for retries."""
        self._nice()
        while not self._done.wait(FOLD_EVERY):
            try:
                self.outbox.fold()
            except Exception as exc:
                log.warning("the send's outcomes could not be written into the outbox yet (%s); trying again", exc)

    def _checkpoints(self) -> None:
        self._nice()
        with self.outbox.engine.connect() as conn:
            while not self._done.wait(CHECKPOINT_EVERY):
                self.outbox.checkpoint(conn)


def _pack(outcome: Outcome) -> bytes:
    """An outcome as bytes for the pipe (marshal: plain values only, the same interpreter at both ends)."""
    o = outcome
    return marshal.dumps((o.row_id, o.status.value, o.tried, o.code, o.text, o.message_id, o.retry_in, o.bounce))


def _unpack(data: bytes) -> Outcome:
    row_id, status, tried, code, text, message_id, retry_in, bounce = marshal.loads(data)
    return Outcome(row_id, DeliveryStatus(status), tried, code, text, message_id, retry_in, bounce)
