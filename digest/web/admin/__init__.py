"""The editor's pages under /admin: the draft as subscribers see it, edits, checks, tests, approval, sending.

Behind a login (auth.py): one editor account from the environment. Without it, the pages are off. Every form
carries a CSRF token. One blueprint per concern, nested under ``admin``:

    auth      GET/POST /admin/login, POST /admin/logout           sign in (with a lock-out) and out
    draft     GET /admin → /admin/draft                           the draft: 600 px and 375 px frames, text part,
              GET /admin/draft[?topics=…]                         checks, edit forms
              GET /admin/draft/email.html[?topics=…]              the email's HTML as it is sent
              POST /admin/draft/build                             recompose the draft (edits kept)
              POST /admin/draft/links                             the checks with every link fetched
    edits     POST /admin/draft/edit/<action>                     one of digest.issue.editing.ACTIONS
    review    POST /admin/draft/test                              send a [TEST] to any addresses (never recorded)
              GET/POST /admin/draft/approve                       confirm, then approve for the scheduled send
    sending   GET/POST /admin/draft/send, …/progress, …/status    confirm, send now in the background, progress
    reports   GET /admin/issues, /admin/issues/<week>[.csv]        each sent issue's report (digest.ops.reports)
              GET /admin/dashboard                                charts: audience, sources, the last issue
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...ops.schedule import Schedule
from ...ops.sender import BackgroundSend, Sender, SendStatus
from ..extensions import digests
from ..methods import SAFE_METHODS
from . import auth, draft, edits, reports, review, sending
from .auth import DEFAULTS, credentials
from .base import AdminState
from .lockout import LockOut
from .sending import EXTENSION, Sends

__all__ = [
    "DEFAULTS",
    "AdminState",
    "BackgroundSend",
    "LockOut",
    "SendStatus",
    "Sends",
    "bp",
    "credentials",
    "init_app",
]

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'; frame-src 'self'"
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
for child in (auth.bp, draft.bp, edits.bp, review.bp, sending.bp, reports.bp):
    bp.register_blueprint(child)


@bp.before_request
def guard() -> ResponseReturnValue | None:
    if request.endpoint in ("admin.auth.login", "admin.auth.login_post"):
        return None
    if not auth.signed_in():
        if request.method in SAFE_METHODS and auth.enabled():
            return redirect(url_for("admin.auth.login", next=request.full_path.rstrip("?")))
        abort(403)
    return None


@bp.after_request
def headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    return response


def init_app(app: Flask, sends: Sends | None = None) -> None:
    """The admin pages on ``app``: their state, the sender behind Send now (``sends``, by default a
    BackgroundSend through the app's Digest), and the blueprint."""
    app.extensions["digest_admin"] = AdminState(
        LockOut(int(app.config["ADMIN_MAX_FAILURES"]), float(app.config["ADMIN_LOCKOUT_SECONDS"]))
    )
    d = digests.of(app).digest
    app.extensions[EXTENSION] = sends or BackgroundSend(lambda: Sender(d, Schedule.from_config(d.settings.schedule)))
    app.register_blueprint(bp)
