"""The report of each sent issue: the same numbers as `digest report`, and their CSV.

    GET /admin/issues                  the issues sent, newest first, each with its delivered and click counts
    GET /admin/issues/<week>           one issue's report
    GET /admin/issues/<week>.csv       the same as CSV (issue, section, name, value)
"""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from ... import reports
from ...models import Issue, IssueStatus
from .base import digest, page

bp = Blueprint("reports", __name__)
REPORTED = (IssueStatus.SENDING, IssueStatus.SENT)


def _issue(week: str) -> Issue:
    found = digest().db.issues.of_week(week)
    if found is None or found.status not in REPORTED:
        abort(404)
    return found


@bp.route("/issues")
def index() -> ResponseReturnValue:
    d = digest()
    issues = sorted(d.db.issues.with_status(REPORTED), key=lambda i: i.end, reverse=True)
    return page("issues.html", rows=[reports.issue_report(d, i) for i in issues])


@bp.route("/issues/<week>")
def show(week: str) -> ResponseReturnValue:
    rep = reports.issue_report(digest(), _issue(week))
    return page("report.html", rep=rep, labels=reports.DELIVERY_LABELS, caveat=reports.OPENS_CAVEAT)


@bp.route("/issues/<week>.csv")
def csv(week: str) -> ResponseReturnValue:
    rep = reports.issue_report(digest(), _issue(week))
    return Response(reports.as_csv(rep), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="report-{rep.week}.csv"'})
