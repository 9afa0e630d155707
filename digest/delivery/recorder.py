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
  with each waiting for the others' turns; on PostgreSQL, one round trip commits several outcomes;
- on SQLite the writer's commits never checkpoint the log (a checkpoint copies it into the database and
  waits for the disk, while every worker waits for its answer): a thread beside it does that.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait

from sqlalchemy import Connection

from ..db.deliveries import Outbox, Outcome
from ..errors import DeliveryError

LOOK_EVERY = 0.1  # seconds between the writer's looks at whether the send has ended
CHECKPOINT_EVERY = 0.25  # seconds between SQLite checkpoints


class Link:
    """A worker's end: ``post`` an outcome, then ``wait`` until it is committed (``record`` does both)."""

    def __init__(self, end: Pipe) -> None:
        self.end = end
        self.waiting = False

    def post(self, outcome: Outcome) -> None:
        """Hand over an outcome (after waiting for the one before, if any)."""
        self.wait()
        self.end.send(outcome)
        self.waiting = True

    def wait(self) -> None:
        """Return once the posted outcome is committed; raises DeliveryError when it could not be."""
        if not self.waiting:
            return
        self.waiting = False
        try:
            error = self.end.recv()
        except EOFError:
            raise DeliveryError(
                "the process recording the send's outcomes is gone; run `digest send` again to resume"
            ) from None
        if error is not None:
            raise DeliveryError(f"an outcome could not be recorded ({error}); run `digest send` again to resume")

    def record(self, outcome: Outcome) -> None:
        self.post(outcome)
        self.wait()


class Recorder:
    """The writer of one send's outcomes, with ``links`` links; ``running`` runs it in threads of this
    process. Make it before forking the workers' processes and run it after: the threads are this
    process's own."""

    def __init__(self, outbox: Outbox, links: int) -> None:
        self.outbox = outbox
        self._pipes = [multiprocessing.Pipe() for _ in range(max(1, links))]
        self._done = threading.Event()

    def link(self, i: int) -> Link:
        return Link(self._pipes[i][1])

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._done.clear()
        threads = [threading.Thread(target=self._write, name="send-recorder", daemon=True)]
        if not self.outbox.postgres:
            threads.append(threading.Thread(target=self._checkpoints, name="send-checkpoints", daemon=True))
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self._done.set()
            for thread in threads:
                thread.join()

    def _write(self) -> None:
        ends = [mine for mine, _ in self._pipes]
        conn = self.outbox.recorder_connection()
        try:
            while ends:
                ready = wait(ends, timeout=LOOK_EVERY)
                if not ready:
                    if self._done.is_set():
                        return
                    continue
                group: list[tuple[Pipe, Outcome]] = []
                for end in ready:
                    assert isinstance(end, Pipe)
                    try:
                        while end.poll():
                            group.append((end, end.recv()))
                    except (EOFError, OSError):  # that worker's process is gone
                        ends.remove(end)
                self._commit(conn, group)
        finally:
            self.outbox.disconnect(conn)

    def _commit(self, conn: Connection, group: Sequence[tuple[Pipe, Outcome]]) -> None:
        if not group:
            return
        answer: str | None = None
        try:
            self.outbox.record(conn, [outcome for _, outcome in group])
        except Exception as exc:  # each waiting worker raises it, and the send stops
            answer = f"{type(exc).__name__}: {exc}"
        for end, _ in group:
            with contextlib.suppress(OSError):
                end.send(answer)

    def _checkpoints(self) -> None:
        with self.outbox.engine.connect() as conn:
            while not self._done.wait(CHECKPOINT_EVERY):
                self.outbox.checkpoint(conn)
