"""The report of each sent issue: the same numbers as `digest report`, and their CSV; the dashboard of charts.

GET /admin/dashboard               subscribers per week, articles per source and week, the last issue's
                                   funnel and its articles clicked most (SVG drawn here: digest/charts.py)
GET /admin/issues                  the issues sent, newest first, each with its delivered and click counts
GET /admin/issues/<week>           one issue's report
GET /admin/issues/<week>.csv       the same as CSV (issue, section, name, value)
"""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from subscribers.clock import now

from ...bounces.summary import refusal_lines
from ...models import Issue, IssueStatus
from ...ops import charts, reports
from ...ops.dashboard import articles_weeks, audience_weeks, last_weeks
from .base import digest, page

bp = Blueprint("reports", __name__)
REPORTED = (IssueStatus.SENDING, IssueStatus.SENT)
WEEKS = 16


def _issue(week: str) -> Issue:
    found = digest().issue_of_week(week)
    if found is None or found.status not in REPORTED:
        abort(404)
    return found


@bp.route("/issues")
def index() -> ResponseReturnValue:
    d = digest()
    issues = sorted(d.issues(REPORTED), key=lambda i: i.end, reverse=True)
    return page("issues.html", rows=[reports.issue_report(d, i) for i in issues])


@bp.route("/issues/<week>")
def show(week: str) -> ResponseReturnValue:
    rep = reports.issue_report(digest(), _issue(week))
    return page(
        "report.html",
        rep=rep,
        labels=reports.DELIVERY_LABELS,
        bounce_labels=reports.BOUNCE_LABELS,
        caveat=reports.OPENS_CAVEAT,
        funnel=charts.funnel(rep),
        top=charts.top_articles(rep) if rep.clicks else None,
    )


@bp.route("/dashboard")
def dashboard() -> ResponseReturnValue:
    d = digest()
    weeks = last_weeks(now(), WEEKS)
    failing = {str(r["name"]): str(r["last_error"]) for r in d.sources_seen() if r["last_error"]}
    per_source = articles_weeks(d.articles_since(weeks[0][1] - (weeks[1][1] - weeks[0][1])), weeks)
    last = d.latest_issue(REPORTED)
    rep = reports.issue_report(d, last) if last is not None else None
    return page(
        "dashboard.html",
        rep=rep,
        failing=failing,
        audience=charts.audience(audience_weeks(d.audience_history(), weeks)),
        sources=charts.sources([w for w, _ in weeks], per_source, failing),
        funnel=charts.funnel(rep) if rep else None,
        top=charts.top_articles(rep) if rep and rep.clicks else None,
        **refusal_lines(d.refusals()),
    )


@bp.route("/issues/<week>.csv")
def csv(week: str) -> ResponseReturnValue:
    rep = reports.issue_report(digest(), _issue(week))
    return Response(
        reports.as_csv(rep),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="report-{rep.week}.csv"'},
    )
