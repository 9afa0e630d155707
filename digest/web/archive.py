"""The web version of sent issues: one page per issue, the archive, and its Atom feed."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from ..issue.compose import once
from ..issue.render import Renderer
from ..models import Issue, IssueStatus
from .extensions import web
from .pages import page

PUBLIC = (IssueStatus.SENDING, IssueStatus.SENT)  # drafts stay private until they are sent

MAX_ID = 2**63 - 1  # the largest integer a database key holds
bp = Blueprint("archive", __name__)


def atom(issues: list[Issue], title: str, base_url: str, renderer: Renderer) -> bytes:
    """An Atom feed of ``issues`` (newest first), each entry linking to its web version."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(f"{base_url}/issues")
    fg.title(title)
    fg.author({"name": title})
    fg.link(href=f"{base_url}/issues/feed.xml", rel="self", type="application/atom+xml")
    fg.link(href=f"{base_url}/issues", rel="alternate", type="text/html")
    fg.updated(issues[0].end if issues else None)
    template = renderer.env.get_template("web/feed_entry.html")
    for issue in issues:
        url = renderer.web_url(issue)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(issue.subject)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.updated(issue.end)
        entry.published(issue.end)
        entry.summary(issue.preheader)
        entry.content(template.render(issue=replace(issue, sections=once(issue.sections))), type="html")
    data: bytes = fg.atom_str(pretty=True)
    return data


def public(issue_id: int) -> Issue:
    issue = web().digest.issue(issue_id)
    if issue is None or issue.status not in PUBLIC:
        abort(404)
    return issue


@bp.route("/issues")
def index() -> ResponseReturnValue:
    return page("archive.html", issues=web().digest.issues(PUBLIC))


@bp.route(f"/issues/<int(max={MAX_ID}):issue_id>")  # a larger number is no issue: 404, not a database error
def show(issue_id: int) -> ResponseReturnValue:
    issue = public(issue_id)
    shown = replace(issue, sections=once(issue.sections))  # a story of several topics, once
    return page("issue.html", issue=shown, count=len(shown.articles))


@bp.route("/issues/feed.xml")
def feed() -> ResponseReturnValue:
    d = web().digest
    body = atom(d.issues(PUBLIC), d.settings.title, d.settings.base_url, d.renderer)
    return Response(body, mimetype="application/atom+xml")
