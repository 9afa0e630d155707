"""The web version of sent issues: one page per issue, the archive, and its Atom feed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from flask.typing import ResponseReturnValue

from ..issue.archive import CODE, Hit
from ..issue.compose import once
from ..issue.registers import linked
from ..issue.render import Renderer
from ..models import Issue, IssueStatus
from .extensions import web
from .pages import page

PUBLIC = (IssueStatus.SENDING, IssueStatus.SENT)  # drafts stay private until they are sent

MAX_ID = 2**63 - 1  # the largest integer a database key holds
bp = Blueprint("archive", __name__)
PAGE = 20  # stories per page of search results
FEED = 50  # stories per topic or jurisdiction feed
MAX_QUERY = 200  # characters of a search's text that count


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


def _day(name: str) -> tuple[date | None, str]:
    value = request.args.get(name, "").strip()
    if not value:
        return None, ""
    try:
        return date.fromisoformat(value), ""
    except ValueError:
        return None, f"“{value[:40]}” is not a date: give it as YYYY-MM-DD."


@bp.route("/issues/search")
def search() -> ResponseReturnValue:
    """Every story ever sent, searched by its words and numbers, with filters; newest sent first."""
    args = request.args
    values = {k: args.get(k, "").strip()[:MAX_QUERY] for k in ("q", "topic", "jurisdiction", "source", "from", "to")}
    start, bad_start = _day("from")
    end, bad_end = _day("to")
    error = bad_start or bad_end
    before = args.get("before", type=int)
    asked = any(values.values())
    hits: list[Hit] = []
    if asked and not error:
        hits = web().digest.search_archive(
            values["q"],
            topic=values["topic"],
            jurisdiction=values["jurisdiction"],
            source=values["source"],
            start=start,
            end=end,
            limit=PAGE + 1,
            before=before if before and 0 < before <= MAX_ID else None,
        )
    more = None
    if len(hits) > PAGE:
        kept: dict[str, Any] = {k: v for k, v in values.items() if v}
        more = url_for("archive.search", **kept, before=hits[PAGE - 1].id)
    return page(
        "search.html",
        400 if error else 200,
        values=values,
        error=error,
        asked=asked,
        hits=hits[:PAGE],
        more=more,
        topics=web().digest.taxonomy.topics,
    )


def stories_feed(hits: list[Hit], title: str, self_url: str, renderer: Renderer) -> bytes:
    """An Atom feed of sent stories (newest first), each entry linking to the story in its issue's page."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.author({"name": title})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=f"{renderer.base_url}/issues", rel="alternate", type="text/html")
    fg.updated(hits[0].sent if hits else None)
    for hit in hits:
        url = f"{renderer.base_url}/issues/{hit.issue_id}#a{hit.article_id}"
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(hit.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.updated(hit.sent)
        entry.published(hit.published)
        entry.author({"name": hit.source})
        entry.content(str(linked(hit.summary)), type="html")
    data: bytes = fg.atom_str(pretty=True)
    return data


def _feed(title: str, topic: str | None = None, jurisdiction: str | None = None) -> ResponseReturnValue:
    d = web().digest
    hits = d.search_archive(topic=topic, jurisdiction=jurisdiction, limit=FEED)
    body = stories_feed(hits, f"{d.settings.title}: {title}", request.base_url, d.renderer)
    return Response(body, mimetype="application/atom+xml")


@bp.route("/issues/topics/<code>/feed.xml")
def topic_feed(code: str) -> ResponseReturnValue:
    found = {t.slug: t.name for t in web().digest.taxonomy.topics}
    if code not in found:
        abort(404)
    return _feed(found[code], topic=code)


@bp.route("/issues/jurisdictions/<code>/feed.xml")
def jurisdiction_feed(code: str) -> ResponseReturnValue:
    if not CODE.fullmatch(code):
        abort(404)
    return _feed(code.upper(), jurisdiction=code)
