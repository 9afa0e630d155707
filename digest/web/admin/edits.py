"""The editing actions on the draft, one form each, dispatched through the table in digest.issue.editing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request
from flask.typing import ResponseReturnValue

from ...errors import DigestError
from ...issue.editing import ACTIONS, ARTICLE, perform
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
    try:
        perform(digest(), action, target, value)
    except DigestError as exc:
        flash(str(exc), "error")
    article = target.strip() if found.target is ARTICLE else ""
    return to_draft(ANCHORS.get(action) or (f"a{article}" if article else action))
