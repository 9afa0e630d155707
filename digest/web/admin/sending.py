"""Send now: the editor starts the send of the draft and watches its progress.

The views only know the small interface ``Sends`` (``start(week)`` and ``status()``), kept in
``app.extensions['digest_sends']``. ``digest.ops.sender.BackgroundSend`` implements it for one app: one send
at a time, in a thread the app owns, through the one send path (the issue's lease, resume, outcome).

    GET/POST /admin/draft/send            confirm, then start the send of the draft
    GET      /admin/draft/send/progress   the send's progress (refreshes itself until it ends), then its outcome
    GET      /admin/draft/send/status     the same as JSON: {"send": null} or {"send": {week, started_at, total,
                                          done, finished, text, error}}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Protocol

from flask import Blueprint, current_app, flash, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue

from ...errors import DigestError
from ...ops.sender import SendStatus
from .base import confirm_page, digest, page, same_draft

EXTENSION = "digest_sends"
REFRESH_SECONDS = 2


class Sends(Protocol):
    """What the send-now views need from whatever sends issues for the web."""

    def start(self, week: str) -> None:
        """Start sending issue ``week``; raises a DigestError whose message says why it cannot."""

    def status(self) -> SendStatus | None:
        """The latest send started here, running or finished; None when there has been none."""


def sends() -> Sends:
    found: Sends = current_app.extensions[EXTENSION]
    return found


bp = Blueprint("sending", __name__)


@bp.get("/draft/send")
def send_now() -> ResponseReturnValue:
    return confirm_page("send")


@bp.post("/draft/send")
def send_now_post() -> ResponseReturnValue:
    issue = digest().find_draft()
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
