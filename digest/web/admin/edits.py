"""The editing actions on the draft, one form each, dispatched through the table in digest.issue.editing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request
from flask.typing import ResponseReturnValue

from ...errors import DigestError
from ...issue.editing import ACTIONS, ARTICLE, changes, perform
from .base import digest, to_draft

# Where the draft page scrolls to after an action; an action on an article goes back to that article.
ANCHORS = {
    "exclude": "excluded",
    "move": "sections",
    "order": "sections",
    "subject": "envelope",
    "preheader": "envelope",
}

bp = Blueprint("edits", __name__)


@bp.route("/draft/edit/<action>", methods=["POST"])
def edit(action: str) -> ResponseReturnValue:
    found = ACTIONS.get(action)
    if found is None:
        abort(404)
    target = request.form.get(found.target.name, "") if found.target else ""
    value = request.form.get(found.value.name, "") if found.value else ""
    d = digest()
    try:
        before = d.draft()
        excluded_before = len(d.excluded(before))
        after = perform(d, action, target, value)
        done = changes(before, after, excluded_before, len(d.excluded(after)))
        flash(f"Changed {'; '.join(done)}." if done else "Nothing changed: the draft already was that way.")
    except DigestError as exc:
        flash(str(exc), "error")
    article = target.strip() if found.target is ARTICLE else ""
    return to_draft(ANCHORS.get(action) or (f"a{article}" if article else action))
