"""Sign-up mail off the request path: one worker thread per app sends the queued notices.

A sign-up answers at once, in the same time and the same way whatever the address's status and whether
or not the mail server is up: the request only puts a notice on a bounded queue. A notice that cannot
be sent is logged (the person can sign up again); a full queue drops the notice with a warning.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable

from subscribers.service import Notice

log = logging.getLogger(__name__)
_ALL: weakref.WeakSet[NoticeQueue] = weakref.WeakSet()


class NoticeQueue:
    """Callable like the sender it wraps (``Audience``'s ``notify``); ``join`` waits until the queue is empty."""

    def __init__(self, send: Callable[[Notice], bool], size: int = 1000) -> None:
        self._send = send
        self._queue: queue.Queue[Notice] = queue.Queue(size)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        _ALL.add(self)

    def __call__(self, notice: Notice) -> bool:
        self._start()
        try:
            self._queue.put_nowait(notice)
        except queue.Full:
            log.warning("the notice queue is full; the %s mail to %s was dropped", notice.kind, notice.email)
            return False
        return True

    def join(self) -> None:
        self._queue.join()

    def _start(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="notices", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            notice = self._queue.get()
            try:
                self._send(notice)
            except Exception:
                log.exception("the %s mail to %s could not be sent", notice.kind, notice.email)
            finally:
                if self._queue.empty():  # the burst is over: let the sender close its connection
                    self._idle()
                self._queue.task_done()

    def _idle(self) -> None:
        close = getattr(self._send, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception:
            log.exception("closing the notice sender failed")


def drain() -> None:
    """Wait until every app's queued notices are sent (tests, and a clean stop)."""
    for q in list(_ALL):
        q.join()
