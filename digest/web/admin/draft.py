"""The draft as subscribers see it: the page with both frames, the email's HTML, a rebuild, the checks."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...bounces.summary import refusal_lines
from ...errors import DigestError
from ...facade import SAMPLE
from ...issue.checks import Finding
from ...issue.render import personalize
from ...models import IssueStatus, counted
from .base import digest, page, to_draft, topics_arg, variant
from .sending import sends

# The email in the preview frames: no script, no form, no framing by other sites, a sandbox even when opened alone.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)

bp = Blueprint("draft", __name__)


@bp.route("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("admin.draft.show"))


@bp.route("/draft")
def show() -> ResponseReturnValue:
    return draft_page()


def draft_page(findings: list[Finding] | None = None) -> ResponseReturnValue:
    d = digest()
    topics = topics_arg(d, request.values.getlist("topics"))
    send = sends().status()
    issue = d.find_draft()
    if issue is None:
        return page(
            "draft.html",
            issue=None,
            send=send,
            feedback=d.recent_feedback(),
            no_draft=d.no_draft(),
            **refusal_lines(d.refusals()),
        )
    rendered = variant(issue, topics)
    text = personalize(rendered, SAMPLE)[1] if rendered else ""
    if findings is None and rendered is not None:
        findings = d.check(topics)
    edits = d.edits(issue)
    excluded = d.excluded(issue)
    edited = {(e.kind, e.target) for e in edits}
    pinned = next((e.target for e in edits if e.kind == "pin"), "")
    in_issue = {s.topic for s in issue.sections}
    return page(
        "draft.html",
        issue=issue,
        rendered=rendered,
        text=text,
        topics=topics or frozenset(),
        all_topics=[t for t in d.taxonomy.topics if t.slug in in_issue],
        findings=findings or [],
        excluded=excluded,
        edited=edited,
        pinned=pinned,
        approved=d.approved_at(issue),
        send=send,
        subject_edited=("subject", "") in edited,
        preheader_edited=issue.preheader_fixed,
        preheaders=d.preheaders(issue) if issue.preheader_fixed else [],
        feedback=d.recent_feedback(),
        **refusal_lines(d.refusals()),
    )


@bp.route("/draft/email.html")
def email() -> ResponseReturnValue:
    d = digest()
    issue = d.find_draft()
    if issue is None:
        abort(404)
    rendered = variant(issue, topics_arg(d, request.args.getlist("topics")))
    if rendered is None:
        abort(404)
    resp = Response(personalize(rendered, SAMPLE)[0], mimetype="text/html")
    resp.headers["Content-Security-Policy"] = EMAIL_CSP
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    return resp


@bp.route("/draft/build", methods=["POST"])
def build() -> ResponseReturnValue:
    d = digest()
    current = d.find_draft()
    try:
        issue = d.build(current.end if current else None)
        if issue.status != IssueStatus.DRAFT:
            flash(d.no_draft())
            return to_draft()
        flash(f"Rebuilt: {counted(len(issue.articles), 'article')} in {counted(len(issue.sections), 'section')}.")
    except DigestError as exc:
        flash(str(exc), "error")
    return to_draft()


@bp.route("/draft/links", methods=["POST"])
def check_links() -> ResponseReturnValue:
    d = digest()
    try:
        findings = d.check(topics_arg(d, request.form.getlist("topics")), with_links=True)
    except DigestError as exc:
        flash(str(exc), "error")
        return to_draft()
    return draft_page(findings)
