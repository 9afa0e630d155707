"""The editor's pages under /admin: the draft as subscribers see it, edits, checks, tests, approval, sending.

Behind a login: one editor account from the environment (DIGEST_ADMIN_USER, DIGEST_ADMIN_PASSWORD_HASH, a
werkzeug password hash made by ``digest admin-hash``). Without both set, the pages are off. Every form
carries a CSRF token; repeated failed logins lock the username out for that client for a while.

    GET  /admin/login, POST /admin/login      sign in (lock-out after ADMIN_MAX_FAILURES failures)
    POST /admin/logout                        sign out
    GET  /admin                               → /admin/draft
    GET  /admin/draft[?topics=…]              the draft: 600 px and 375 px frames, text part, checks, edit forms
    GET  /admin/draft/email.html[?topics=…]   the email's HTML as it is sent, with a sample reader
    POST /admin/draft/build                   recompose the draft from the week's articles (edits kept)
    POST /admin/draft/edit/<action>           exclude, restore, title, summary, pin, unpin, move, subject, preheader
    POST /admin/draft/links                   the checks with every link fetched
    POST /admin/draft/test                    send a [TEST] to any addresses (never recorded)
    GET/POST /admin/draft/approve             confirm, then approve the draft for the scheduled send
    GET/POST /admin/draft/send                confirm, then send the draft now (in a background thread)
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from werkzeug.security import check_password_hash, generate_password_hash

from ..checks import Finding
from ..config import AdminConfig
from ..configspec import env_name
from ..deliver import DeliveryReport
from ..editing import Edit
from ..errors import DigestError
from ..models import Issue
from ..pipeline import SAMPLE, Digest
from ..render import Rendered, personalize

ENV_USER = env_name(AdminConfig, "user")
ENV_HASH = env_name(AdminConfig, "password_hash")
DEFAULTS: Mapping[str, Any] = {
    "ADMIN_MAX_FAILURES": 5,
    "ADMIN_LOCKOUT_SECONDS": 15 * 60,
    "ADMIN_SESSION_SECONDS": 12 * 3600,
    "ADMIN_LOGIN_LIMIT": "20 per minute",
}
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'; frame-src 'self'")
# The email in the preview frames: no script, no form, no framing by other sites, a sandbox even when opened alone.
EMAIL_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'none'; "
             "base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
ACTIONS = ("exclude", "restore", "title", "summary", "pin", "unpin", "move", "subject", "preheader")
ADDRESS_SPLIT = re.compile(r"[\s,;]+")


def credentials(account: AdminConfig) -> dict[str, str]:
    """The Flask settings for the editor's account (``settings.admin``)."""
    return {"ADMIN_USER": account.user, "ADMIN_PASSWORD_HASH": account.password_hash}


class LockOut:
    """Failed logins per (username, client), kept in memory: ``limit`` failures within ``seconds`` lock
    that pair out until ``seconds`` after the last failure. A success clears the pair."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> list[float]:
        since = self.clock() - self.seconds
        kept = [t for t in self._failures.get(key, []) if t > since]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def remaining(self, key: tuple[str, str]) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.limit:
                return 0.0
            return max(0.0, recent[-1] + self.seconds - self.clock())

    def fail(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key)
            self._failures.setdefault(key, []).append(self.clock())

    def clear(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass
class SendJob:
    """A 'send now' running in a background thread, and how it ended."""

    week: str
    started: datetime
    thread: threading.Thread | None = None
    report: DeliveryReport | None = None
    error: str = ""

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


@dataclass
class AdminState:
    """What the admin pages keep between requests, in ``app.extensions['digest_admin']``."""

    lockout: LockOut
    job: SendJob | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[tuple[Issue, frozenset[str] | None], Rendered | None] = field(default_factory=dict)


def state() -> AdminState:
    found: AdminState = current_app.extensions["digest_admin"]
    return found


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash to check against when the username is wrong, so both failures take the same time."""
    if not _DUMMY:
        _DUMMY.append(generate_password_hash("not the password"))
    return _DUMMY[0]


def _fingerprint(user: str, password_hash: str) -> str:
    """Bound into the session: a new password hash (or username) signs every editor out."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{user}\0{password_hash}".encode(), hashlib.sha256).hexdigest()[:32]


def enabled() -> bool:
    return bool(current_app.config.get("ADMIN_USER") and current_app.config.get("ADMIN_PASSWORD_HASH"))


def signed_in() -> bool:
    if not enabled() or "admin" not in session:
        return False
    cfg = current_app.config
    if session.get("admin_key") != _fingerprint(cfg["ADMIN_USER"], cfg["ADMIN_PASSWORD_HASH"]):
        return False
    return bool(time.time() - float(session.get("admin_at", 0)) < float(cfg["ADMIN_SESSION_SECONDS"]))


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin") and "\\" not in target:
            return target
    return url_for("admin.draft")


def _topics_arg(d: Digest, values: list[str]) -> frozenset[str] | None:
    known = {t.slug for t in d.taxonomy.topics}
    chosen = frozenset(v for v in values if v in known)
    return chosen or None


def version(issue: Issue) -> str:
    """A short fingerprint of the draft's content, to tell whether it changed since a page showed it."""
    return hashlib.sha256(repr(issue).encode()).hexdigest()[:16]


def reach(d: Digest, issue: Issue) -> int:
    """How many active subscribers the issue would reach: not paused, and with something in their topics."""
    in_issue = {s.topic for s in issue.sections}
    known = {t.slug for t in d.taxonomy.topics}
    n = 0
    for sub in d.subscribers.iter(status="active"):
        wanted = sub.topics & known
        if sub.mailable and (not wanted or wanted & in_issue):
            n += 1
    return n


def blueprint(limiter: Limiter) -> Blueprint:
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    def page(template: str, status: int = 200, **ctx: Any) -> ResponseReturnValue:
        return render_template(f"web/admin/{template}", **ctx), status

    def digest() -> Digest:
        found: Digest = current_app.extensions["digest"].digest
        return found

    def variant(issue: Issue, topics: frozenset[str] | None) -> Rendered | None:
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

    def back(anchor: str = "") -> ResponseReturnValue:
        topics = request.form.getlist("topics")
        return redirect(url_for("admin.draft", topics=topics or None) + (f"#{anchor}" if anchor else ""), 303)

    @bp.before_request
    def guard() -> ResponseReturnValue | None:
        if request.endpoint == "admin.login":
            return None
        if not signed_in():
            if request.method == "GET" and enabled():
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            abort(403)
        return None

    @bp.after_request
    def headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    @bp.route("/login", methods=["GET", "POST"])
    @limiter.limit(lambda: str(current_app.config["ADMIN_LOGIN_LIMIT"]), methods=["POST"])
    def login() -> ResponseReturnValue:
        if not enabled():
            return page("login.html", 503, disabled=True, env_user=ENV_USER, env_hash=ENV_HASH)
        nxt = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return redirect(nxt) if signed_in() else page("login.html", next=nxt)
        cfg = current_app.config
        user = request.form.get("username", "").strip()[:200]
        password = request.form.get("password", "")
        key = (user.lower(), request.remote_addr or "?")
        lockout = state().lockout
        wait = lockout.remaining(key)
        if wait > 0:
            minutes = math.ceil(wait / 60)
            return page("login.html", 429, next=nxt, username=user,
                        error=f"Too many failed attempts. Try again in {minutes} minutes.")
        known = hmac.compare_digest(user.encode(), str(cfg["ADMIN_USER"]).encode())
        good = check_password_hash(cfg["ADMIN_PASSWORD_HASH"] if known else _dummy_hash(), password)
        if not (known and good):
            lockout.fail(key)
            current_app.logger.warning("failed editor login for %r from %s", user, key[1])
            return page("login.html", 401, next=nxt, username=user, error="Wrong username or password.")
        lockout.clear(key)
        session.clear()
        session["admin"] = user
        session["admin_key"] = _fingerprint(cfg["ADMIN_USER"], cfg["ADMIN_PASSWORD_HASH"])
        session["admin_at"] = time.time()
        return redirect(nxt, 303)

    @bp.route("/logout", methods=["POST"])
    def logout() -> ResponseReturnValue:
        session.clear()
        return redirect(url_for("admin.login"), 303)

    @bp.route("/")
    def home() -> ResponseReturnValue:
        return redirect(url_for("admin.draft"))

    @bp.route("/draft")
    def draft(findings: list[Finding] | None = None) -> ResponseReturnValue:
        d = digest()
        raw = request.values.getlist("topics")
        topics = _topics_arg(d, raw)
        job = state().job
        issue = d.db.issues.latest(("draft",))
        if issue is None:
            return page("draft.html", issue=None, job=job)
        rendered = variant(issue, topics)
        text = personalize(rendered, SAMPLE)[1] if rendered else ""
        if findings is None and rendered is not None:
            findings = d.check(topics)
        edits = d.db.issues.edits(issue.week)
        excluded_ids = {e.target for e in edits if e.kind == "exclude"}
        excluded = [a for a in d.db.articles.between(issue.start, issue.end) if str(a.id) in excluded_ids]
        edited = {(e.kind, e.target) for e in edits}
        pinned = next((e.target for e in edits if e.kind == "pin"), "")
        in_issue = {s.topic for s in issue.sections}
        return page("draft.html", issue=issue, rendered=rendered, text=text, topics=topics or frozenset(),
                    all_topics=[t for t in d.taxonomy.topics if t.slug in in_issue], findings=findings or [],
                    excluded=excluded, edited=edited, pinned=pinned, approved=d.db.issues.approved_at(issue.id),
                    job=job, subject_edited=("subject", "") in edited, preheader_edited=("preheader", "") in edited)

    @bp.route("/draft/email.html")
    def email() -> ResponseReturnValue:
        d = digest()
        issue = d.db.issues.latest(("draft",))
        if issue is None:
            abort(404)
        rendered = variant(issue, _topics_arg(d, request.args.getlist("topics")))
        if rendered is None:
            abort(404)
        resp = Response(personalize(rendered, SAMPLE)[0], mimetype="text/html")
        resp.headers["Content-Security-Policy"] = EMAIL_CSP
        resp.headers["X-Frame-Options"] = "SAMEORIGIN"
        return resp

    @bp.route("/draft/build", methods=["POST"])
    def build() -> ResponseReturnValue:
        d = digest()
        current = d.db.issues.latest(("draft",))
        try:
            issue = d.build(current.end if current else None)
            flash(f"Rebuilt: {len(issue.articles)} articles in {len(issue.sections)} sections.")
        except DigestError as exc:
            flash(str(exc), "error")
        return back()

    @bp.route("/draft/edit/<action>", methods=["POST"])
    def edit(action: str) -> ResponseReturnValue:
        if action not in ACTIONS:
            abort(404)
        d = digest()
        form = request.form
        target = form.get("article", "").strip()
        value = " ".join(form.get("value", "").split())
        anchor = f"a{target}" if target else action
        try:
            if action == "exclude":
                d.edit(Edit("exclude", target))
                anchor = "excluded"
            elif action == "restore":
                d.edit(clear=("exclude", target))
            elif action in ("title", "summary"):
                d.edit(Edit(action, target, value)) if value else d.edit(clear=(action, target))
            elif action == "pin":
                d.edit(Edit("pin", target))
            elif action == "unpin":
                d.edit(clear=("pin", ""))
            elif action == "move":
                order = [s.topic for s in d.draft().sections]
                topic = form.get("topic", "")
                if topic in order:
                    i = order.index(topic)
                    j = i - 1 if form.get("direction") == "up" else i + 1
                    if 0 <= j < len(order):
                        order[i], order[j] = order[j], order[i]
                d.edit(Edit("order", value=",".join(order)))
                anchor = "sections"
            else:  # subject, preheader
                d.edit(Edit(action, value=value)) if value else d.edit(clear=(action, ""))
                anchor = "envelope"
        except DigestError as exc:
            flash(str(exc), "error")
        return back(anchor)

    @bp.route("/draft/links", methods=["POST"])
    def check_links() -> ResponseReturnValue:
        d = digest()
        try:
            findings = d.check(_topics_arg(d, request.form.getlist("topics")), with_links=True)
        except DigestError as exc:
            flash(str(exc), "error")
            return back()
        return draft(findings)

    @bp.route("/draft/test", methods=["POST"])
    def send_test() -> ResponseReturnValue:
        addresses = [a for a in ADDRESS_SPLIT.split(request.form.get("addresses", "")) if a]
        if not addresses:
            flash("Give at least one address for the test.", "error")
        elif len(addresses) > 20:
            flash("A test goes to at most 20 addresses.", "error")
        else:
            try:
                n = digest().send_test(addresses)
                flash(f"Test sent to {n} of {len(addresses)} addresses: {', '.join(addresses)}.",
                      "message" if n else "error")
            except DigestError as exc:
                flash(str(exc), "error")
        return back("test")

    def confirm_page(action: str) -> ResponseReturnValue:
        d = digest()
        issue = d.db.issues.latest(("draft",))
        if issue is None:
            flash("There is no draft.", "error")
            return redirect(url_for("admin.draft"), 303)
        return page("confirm.html", action=action, issue=issue, reach=reach(d, issue), version=version(issue),
                    counts=d.subscribers.counts(), approved=d.db.issues.approved_at(issue.id))

    def same_draft(issue: Issue) -> bool:
        """The form names the version it confirmed; an edit or rebuild in between means confirming again."""
        return hmac.compare_digest(request.form.get("version", ""), version(issue))

    @bp.route("/draft/approve", methods=["GET", "POST"])
    def approve() -> ResponseReturnValue:
        if request.method == "GET":
            return confirm_page("approve")
        d = digest()
        issue = d.db.issues.latest(("draft",))
        if issue is None or not same_draft(issue):
            flash("The draft changed since the confirmation page; look at it again.", "error")
            return redirect(url_for("admin.draft"), 303)
        d.db.issues.approve(issue.id)
        flash(f"Approved issue {issue.week}; the scheduled send will send it.")
        return redirect(url_for("admin.draft"), 303)

    @bp.route("/draft/send", methods=["GET", "POST"])
    def send_now() -> ResponseReturnValue:
        if request.method == "GET":
            return confirm_page("send")
        d = digest()
        st = state()
        issue = d.db.issues.latest(("draft",))
        if issue is None or not same_draft(issue):
            flash("The draft changed since the confirmation page; look at it again.", "error")
            return redirect(url_for("admin.draft"), 303)
        with st.lock:
            if st.job is not None and st.job.running:
                flash(f"Issue {st.job.week} is being sent already.", "error")
                return redirect(url_for("admin.draft"), 303)
            job = SendJob(week=issue.week, started=datetime.now().astimezone())
            job.thread = threading.Thread(target=_send, args=(current_app.logger, d, issue, job),
                                          name=f"send-{issue.week}", daemon=True)
            st.job = job
        job.thread.start()
        flash(f"Sending issue {issue.week} now.")
        return redirect(url_for("admin.draft"), 303)

    return bp


def _send(logger: Any, d: Digest, issue: Issue, job: SendJob) -> None:
    try:
        job.report = d.send(issue)
    except DigestError as exc:
        job.error = str(exc)
    except Exception as exc:  # a background thread has no one else to tell
        logger.exception("sending issue %s failed", issue.week)
        job.error = f"unexpected error: {exc}"
