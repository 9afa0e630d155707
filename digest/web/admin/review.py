"""Before the issue goes out: a [TEST] to any addresses, and the approval for the scheduled send."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...errors import DigestError
from ...models import IssueStatus
from .base import confirm_page, digest, same_draft, to_draft

ADDRESS_SPLIT = re.compile(r"[\s,;]+")
MAX_TEST_ADDRESSES = 20

bp = Blueprint("review", __name__)


@bp.route("/draft/test", methods=["POST"])
def send_test() -> ResponseReturnValue:
    addresses = [a for a in ADDRESS_SPLIT.split(request.form.get("addresses", "")) if a]
    if not addresses:
        flash("Give at least one address for the test.", "error")
    elif len(addresses) > MAX_TEST_ADDRESSES:
        flash(f"A test goes to at most {MAX_TEST_ADDRESSES} addresses.", "error")
    else:
        try:
            n = digest().send_test(addresses)
            flash(
                f"Test sent to {n} of {len(addresses)} addresses: {', '.join(addresses)}.", "message" if n else "error"
            )
        except DigestError as exc:
            flash(str(exc), "error")
    return to_draft("test")


@bp.get("/draft/approve")
def approve() -> ResponseReturnValue:
    return confirm_page("approve")


@bp.post("/draft/approve")
def approve_post() -> ResponseReturnValue:
    d = digest()
    issue = d.db.issues.latest((IssueStatus.DRAFT,))
    if issue is None or issue.id is None or not same_draft(issue):
        flash("The draft changed since the confirmation page; look at it again.", "error")
        return redirect(url_for("admin.draft.show"), 303)
    d.db.issues.approve(issue.id)
    flash(f"Approved issue {issue.week}; the scheduled send will send it.")
    return redirect(url_for("admin.draft.show"), 303)
