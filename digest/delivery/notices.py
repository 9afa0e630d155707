"""Sign-up mail off the request path, through the database so that none is lost.

A sign-up answers at once, in the same time and the same way whatever the address's status and whether
or not the mail server is up: the request only stores the notice (the database's notices table) and wakes this
app's sender thread. The thread sends what is due; a notice the server could not take now (down,
STARTTLS missing, 4xx) is tried again with growing waits, one refused for good (5xx) or still failing
after MAX_ATTEMPTS is dropped with a warning. What a stopped server left waiting goes out when it
starts again (``start``); ``stop`` lets the notice in flight finish.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import timedelta
from typing import Protocol

from subscribers.clock import now
from subscribers.service import Notice

from ..config import Settings
from ..db.notices import Notices, Waiting
from ..issue.message import NoticeMessages
from .transport import SendResult, Transport, make_transport

log = logging.getLogger(__name__)
_ALL: weakref.WeakSet[NoticeOutbox] = weakref.WeakSet()

FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 16  # about half a day of tries
ERROR_WAIT = timedelta(seconds=1)  # after the database refused a read, e.g. busy with another writer
IDLE_CHECK = 60.0  # seconds: how long the thread sleeps at most while later notices wait


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 30 s, 1 min, 2 min, … at most an hour."""
    wait: timedelta = FIRST_WAIT * (2 ** max(0, attempts - 1))
    return min(wait, LONGEST_WAIT)


class NoticeSender(Protocol):
    """Mails one notice (``deliver``: what the server answered) and lets its connection go (``close``),
    as ``Notifier`` below does."""

    def deliver(self, notice: Notice) -> SendResult: ...

    def close(self) -> None: ...


class NoticeOutbox:
    """Callable like ``Audience``'s ``notify``: stores the notice and wakes the sender thread; the
    sender's ``close`` is called whenever nothing is left to send now."""

    def __init__(self, store: Notices, sender: NoticeSender) -> None:
        self.store, self._sender = store, sender
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._worker: threading.Thread | None = None
        _ALL.add(self)

    def __call__(self, notice: Notice) -> bool:
        self.store.add(notice.kind, notice.email, notice.name, notice.url)
        self.start()
        return True

    def start(self) -> None:
        """Make sure the sender thread runs (at server start: it sends what an earlier run left)."""
        with self._lock:
            self._busy = True
            self._wake.set()
            if self._stopping.is_set():
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="notices", daemon=True)
                self._worker.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait until nothing due now is left to try (what the server refused or deferred waits for later)."""
        with self._idle:
            self._idle.wait_for(self._settled, timeout)

    def _settled(self) -> bool:
        worker = self._worker
        return not self._busy or self._stopping.is_set() or worker is None or not worker.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        """Let the notice in flight finish and end the thread; the rest waits in the database."""
        self._stopping.set()
        self._wake.set()
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                while not self._stopping.is_set() and self._one():
                    pass
                due = self.store.next_due()
            except Exception as exc:  # a busy database (another writer held it): try again in a moment
                log.warning("the sign-up mail could not be read from the database (%s); trying again", exc)
                due = now() + ERROR_WAIT
            self._close_sender()
            with self._idle:
                if self._wake.is_set():
                    continue
                self._busy = False
                self._idle.notify_all()
                if due is None:  # nothing waits: the next sign-up starts the thread again
                    self._worker = None
                    return
            self._wake.wait(max(0.0, min(IDLE_CHECK, (due - now()).total_seconds())))
            with self._lock:
                self._busy = True

    def _one(self) -> bool:
        """Send one due notice; False when none is due."""
        waiting = self.store.claim()
        if waiting is None:
            return False
        notice = Notice(waiting.kind, waiting.email, waiting.name, waiting.url)
        try:
            result = self._sender.deliver(notice)
        except Exception as exc:
            self._close_sender()
            self._failed(waiting, f"{type(exc).__name__}: {exc}")
            return True
        if result.ok:
            self.store.sent(waiting.id)
        elif result.permanent:
            log.warning("the %s mail to %s was refused: %d %s", notice.kind, notice.email, result.code, result.text)
            self.store.sent(waiting.id)
        else:
            self._failed(waiting, f"{result.code} {result.text}")
        return True

    def _failed(self, waiting: Waiting, why: str) -> None:
        tries = waiting.attempts + 1
        if tries >= MAX_ATTEMPTS:
            log.warning("the %s mail to %s is dropped after %d tries: %s", waiting.kind, waiting.email, tries, why)
            self.store.sent(waiting.id)
            return
        wait = backoff(tries)
        log.warning(
            "the %s mail to %s could not be sent (%s); trying again in %s", waiting.kind, waiting.email, why, wait
        )
        self.store.retry(waiting.id, why, now() + wait)

    def _close_sender(self) -> None:
        try:
            self._sender.close()
        except Exception:
            log.exception("closing the notice sender failed")


def drain() -> None:
    """Wait until every app's due notices have been tried (tests)."""
    for outbox in list(_ALL):
        outbox.join()


def stop_all(timeout: float | None = None) -> None:
    """Let every app's notice in flight finish and stop their threads (a clean stop of the server)."""
    for outbox in list(_ALL):
        outbox.stop(timeout)


def notice_transport(settings: Settings) -> Transport:
    """The same choice as for issues: SMTP when SMTP_HOST is set, else .eml files in <outbox>/confirmations."""
    return make_transport(settings.smtp, settings.outbox_dir / "confirmations")


class Notifier:
    """Mails a sign-up notice: the message from ``NoticeMessages``, over a transport that stays open while
    notices follow one another (``close`` when the queue is empty), so a burst of sign-ups does not open a
    connection for each."""

    def __init__(self, messages: NoticeMessages, settings: Settings) -> None:
        self.messages = messages
        self.settings = settings
        self._transport: Transport | None = None

    def __call__(self, notice: Notice) -> bool:
        result = self.deliver(notice)
        if not result.ok:
            log.warning("the %s mail to %s was refused: %d %s", notice.kind, notice.email, result.code, result.text)
        return result.ok

    def deliver(self, notice: Notice) -> SendResult:
        """Send one notice and say what the server answered; a lost connection raises (and is closed)."""
        envelope = self.messages.envelope(notice)
        if self._transport is None:
            self._transport = notice_transport(self.settings)
        try:
            return self._transport.send(envelope)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
