"""Send now: the editor starts the send of the draft and watches its progress.

The views only know the small interface ``Sends`` (``start(week)`` and ``status()``), kept in
``app.extensions['digest_sends']``. ``ThreadSends`` implements it for one app: one send at a time, in a
background thread that calls ``Digest.send`` and counts its progress.

    GET/POST /admin/draft/send            confirm, then start the send of the draft
    GET      /admin/draft/send/progress   the send's progress (refreshes itself until it ends), then its outcome
    GET      /admin/draft/send/status     the same as JSON: {"send": null} or {"send": {week, started_at, total,
                                          done, finished, text, error}}
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from flask import Blueprint, current_app, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...deliver import DeliveryReport
from ...errors import DigestError, NothingToSend, UsageError
from ...models import Issue
from ...pipeline import Digest
from .base import confirm_page, digest, page, same_draft

EXTENSION = "digest_sends"
REFRESH_SECONDS = 2


@dataclass(frozen=True)
class SendStatus:
    """Where the latest send started from the web stands; ``text`` is its one-line outcome so far."""

    week: str
    started_at: datetime
    total: int = 0
    done: int = 0
    finished: bool = False
    text: str = "starting…"
    error: str | None = None


class Sends(Protocol):
    """What the send-now views need from whatever sends issues for the web."""

    def start(self, week: str) -> None:
        """Start sending issue ``week``; raises a DigestError whose message says why it cannot."""

    def status(self) -> SendStatus | None:
        """The latest send started here, running or finished; None when there has been none."""


def sends() -> Sends:
    found: Sends = current_app.extensions[EXTENSION]
    return found


def outcome(rep: DeliveryReport) -> str:
    return (f"done: {rep.sent} sent, {rep.failed} failed, {rep.deferred} deferred, "
            f"{rep.skipped} skipped.")


class ThreadSends:
    """One send at a time for one app, run by ``Digest.send`` in a background thread."""

    def __init__(self, digest: Digest, logger: logging.Logger | None = None) -> None:
        self.digest = digest
        self.logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._status: SendStatus | None = None
        self._thread: threading.Thread | None = None

    def start(self, week: str) -> None:
        issue = self.digest.store.issue(week=week)
        if issue is None:
            raise NothingToSend(f"there is no issue {week}; build the draft first")
        if issue.status == "sent":
            raise UsageError(f"issue {week} was sent already; build next week's draft")
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                running = self._status.week if self._status else week
                raise UsageError(f"issue {running} is being sent already; wait for it to finish")
            self._status = SendStatus(week=week, started_at=datetime.now().astimezone())
            self._thread = threading.Thread(target=self._run, args=(issue,), name=f"send-{week}", daemon=True)
            self._thread.start()

    def status(self) -> SendStatus | None:
        with self._lock:
            return self._status

    def wait(self, timeout: float | None = None) -> SendStatus | None:
        """Block until the current send ends (or ``timeout`` seconds pass); its status then."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def _update(self, **changes: Any) -> None:
        with self._lock:
            assert self._status is not None
            self._status = replace(self._status, **changes)

    def _progress(self, rep: DeliveryReport) -> None:
        done = rep.done + rep.deferred
        self._update(total=rep.total, done=done, text=f"sending: {done} of {rep.total}")

    def _run(self, issue: Issue) -> None:
        try:
            rep = self.digest.send(issue, progress=self._progress)
            self._update(total=rep.total, done=rep.done + rep.deferred, finished=True, text=outcome(rep))
        except DigestError as exc:
            self._update(finished=True, text=f"stopped: {exc}", error=str(exc))
        except Exception as exc:  # a background thread has no one else to tell
            self.logger.exception("sending issue %s failed", issue.week)
            self._update(finished=True, text=f"stopped: unexpected error: {exc}", error=f"unexpected error: {exc}")


bp = Blueprint("sending", __name__)


@bp.route("/draft/send", methods=["GET", "POST"])
def send_now() -> ResponseReturnValue:
    if request.method == "GET":
        return confirm_page("send")
    issue = digest().store.latest_issue(("draft",))
    if issue is None or not same_draft(issue):
        flash("The draft changed since the confirmation page; look at it again.", "error")
        return redirect(url_for("admin.draft.show"), 303)
    try:
        sends().start(issue.week)
    except DigestError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.draft.show"), 303)
    flash(f"Sending issue {issue.week} now.")
    return redirect(url_for("admin.sending.progress"), 303)


@bp.route("/draft/send/progress")
def progress() -> ResponseReturnValue:
    status = sends().status()
    if status is None:
        flash("No send has been started here since the server started.", "error")
        return redirect(url_for("admin.draft.show"), 303)
    return page("sending.html", send=status, refresh=None if status.finished else REFRESH_SECONDS)


@bp.route("/draft/send/status")
def status_json() -> ResponseReturnValue:
    status = sends().status()
    if status is None:
        return jsonify(send=None)
    fields = asdict(status)
    fields["started_at"] = status.started_at.isoformat()
    return jsonify(send=fields)
