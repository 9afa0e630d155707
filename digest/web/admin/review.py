"""Before the issue goes out: a [TEST] to any addresses, and the approval for the scheduled send."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...errors import DigestError, DraftChanged
from .base import confirm_page, digest, same_draft, to_draft

ADDRESS_SPLIT = re.compile(r"[\s,;]+")
MAX_TEST_ADDRESSES = 20

bp = Blueprint("review", __name__)


@bp.route("/draft/test", methods=["POST"])
def send_test() -> ResponseReturnValue:
    """Send a test; its result is shown in the test panel, and on an error the typed addresses stay."""
    typed = request.form.get("addresses", "")
    addresses = [a for a in ADDRESS_SPLIT.split(typed) if a]
    error = ""
    if not addresses:
        error = "Give at least one address for the test."
    elif len(addresses) > MAX_TEST_ADDRESSES:
        error = f"A test goes to at most {MAX_TEST_ADDRESSES} addresses; this list has {len(addresses)}."
    else:
        try:
            n = digest().send_test(addresses)
            if n:
                flash(f"Test sent to {n} of {len(addresses)} addresses: {', '.join(addresses)}.", "test-message")
            else:
                error = f"The mail server refused the test for every address: {', '.join(addresses)}."
        except DigestError as exc:
            error = f"No test sent: {exc}."
    if error:
        flash(error, "test-error")
        flash(typed.strip(), "test-addresses")
    return to_draft("test")


@bp.get("/draft/approve")
def approve() -> ResponseReturnValue:
    return confirm_page("approve")


@bp.post("/draft/approve")
def approve_post() -> ResponseReturnValue:
    try:
        issue = digest().approve(expected=same_draft)
    except DraftChanged:
        flash("The draft changed since the confirmation page; look at it again.", "error")
        return redirect(url_for("admin.draft.show"), 303)
    except DigestError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.draft.show"), 303)
    flash(f"Approved issue {issue.week}; the scheduled send will send it.")
    return redirect(url_for("admin.draft.show"), 303)
