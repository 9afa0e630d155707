"""What the admin views share: the app's admin state, the draft's rendered variants, the confirmation page."""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...facade import Digest
from ...issue.render import Rendered
from ...models import Issue
from ..extensions import digests

if TYPE_CHECKING:
    from .lockout import LockOut


@dataclass
class AdminState:
    """What the admin pages keep between requests, in ``app.extensions['digest_admin']``."""

    lockout: LockOut
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[tuple[Issue, frozenset[str] | None], Rendered | None] = field(default_factory=dict)


def state() -> AdminState:
    found: AdminState = current_app.extensions["digest_admin"]
    return found


def digest() -> Digest:
    return digests.digest


def page(template: str, status: int = 200, **ctx: Any) -> ResponseReturnValue:
    return render_template(f"web/admin/{template}", **ctx), status


def to_draft(anchor: str = "") -> ResponseReturnValue:
    """Back to the draft page, keeping the topics the form was showing."""
    topics = request.form.getlist("topics")
    return redirect(url_for("admin.draft.show", topics=topics or None) + (f"#{anchor}" if anchor else ""), 303)


def topics_arg(d: Digest, values: list[str]) -> frozenset[str] | None:
    known = {t.slug for t in d.taxonomy.topics}
    chosen = frozenset(v for v in values if v in known)
    return chosen or None


def variant(issue: Issue, topics: frozenset[str] | None) -> Rendered | None:
    """The draft rendered for readers of ``topics``, kept for the next request while the draft is unchanged."""
    st = state()
    key = (issue, topics)
    with st.lock:
        if key in st.cache:
            return st.cache[key]
    rendered = digest().renderer.render(issue, topics)
    with st.lock:
        if len(st.cache) >= 16:
            st.cache.clear()
        st.cache[key] = rendered
    return rendered


def version(issue: Issue) -> str:
    """A short fingerprint of the draft's content, to tell whether it changed since a page showed it."""
    return hashlib.sha256(repr(issue).encode()).hexdigest()[:16]


def same_draft(issue: Issue) -> bool:
    """The form names the version it confirmed; an edit or rebuild in between means confirming again."""
    return hmac.compare_digest(request.form.get("version", ""), version(issue))


def confirm_page(action: str) -> ResponseReturnValue:
    """The page that asks to confirm approving or sending the draft, with its audience and version."""
    d = digest()
    issue = d.find_draft()
    if issue is None:
        flash("There is no draft.", "error")
        return redirect(url_for("admin.draft.show"), 303)
    return page(
        "confirm.html",
        action=action,
        issue=issue,
        reach=d.reach(issue),
        version=version(issue),
        counts=d.subscribers.counts(),
        approved=d.approved_at(issue),
    )
