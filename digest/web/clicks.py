"""GET /r/<token>[/<reader>]: a tracked article link ([tracking] clicks = true) → 302 to that article;
GET /o/<token>[/<reader>]: the open image ([tracking] opens = true).

The token is signed (digest/clicks.py) and names the issue and the article; the redirect goes to the URL
stored for that article in that issue and nowhere else, whatever the query string says, without the
tracking parameters its feed added (as the email would link it). Each request of a
sent issue's link is stored (HEAD included, and whether the agent is a known scanner); the report decides
which ones count. A link sent with a reader part (per_subscriber = true) that comes without a valid one
is followed and not stored; one client's burst on one link is refused past CLICK_LIMIT.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from subscribers.clock import now

from ..issue.clicks import BadLink, article_url, scanner_agent
from ..issue.render import safe_url
from ..models import Click, IssueStatus
from .extensions import digests, limiter

bp = Blueprint("clicks", __name__)
CLICK_LIMIT = "10 per minute"
COUNTED = (IssueStatus.SENDING, IssueStatus.SENT)  # a draft's links (editors' tests) are followed, not stored


def _click_key() -> str:
    """One client's requests of one link: a burst beyond CLICK_LIMIT is refused (429), so hammering a link
    neither inflates its count nor fills the clicks table, and blocks nobody else's use of it."""
    args = request.view_args or {}
    return f"click:{args.get('token')}:{args.get('reader')}:{get_remote_address()}"


@bp.route("/r/<token>")
@bp.route("/r/<token>/")
@bp.route("/r/<token>/<reader>")
@limiter.limit(lambda: str(current_app.config.get("CLICK_LIMIT", CLICK_LIMIT)), key_func=_click_key)
def follow(token: str, reader: str | None = None) -> ResponseReturnValue:
    d = digests.digest
    try:
        issue_id, article_id, subscriber, per_reader = d.click_links().read_click(token, reader)
    except BadLink:
        abort(404)
    issue = d.issue(issue_id)
    target = article_url(issue, article_id) if issue is not None else None
    if issue is None or target is None or safe_url(target) != target or not target.startswith("http"):
        abort(404)
    # A link sent with a reader part that comes without a valid one (cut off, or another's pasted in) is
    # followed but not stored: it cannot be told from a forged count.
    if issue.status in COUNTED and not (per_reader and subscriber is None):
        d.record_click(
            issue,
            Click(
                article_id,
                subscriber,
                now(),
                head=request.method == "HEAD",
                scanner_agent=scanner_agent(request.headers.get("User-Agent", "")),
            ),
        )
    return redirect(d.renderer.reader_link(target, issue), 302)


# A transparent 1×1 GIF.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@bp.route("/o/<token>")
@bp.route("/o/<token>/")
@bp.route("/o/<token>/<reader>")
def opened(token: str, reader: str | None = None) -> ResponseReturnValue:
    """The open image ([tracking] opens = true): stored for a sent issue, on GET only."""
    d = digests.digest
    try:
        issue_id, subscriber = d.click_links().read_open(token, reader)
    except BadLink:
        abort(404)
    issue = d.issue(issue_id)
    if issue is None:
        abort(404)
    if issue.status in COUNTED and request.method == "GET":
        d.record_open(issue, subscriber, now())
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})
