"""The editor's login: one account from the settings, a signed session, and a lock-out after failures.

DIGEST_ADMIN_USER and DIGEST_ADMIN_PASSWORD_HASH (a werkzeug password hash made by ``digest admin-hash``) name
the account; without both the admin pages are off. Repeated failed logins lock the username out for that
client for a while. A login makes a session on the server (the database's sessions table); the cookie carries only
its random token, so logging out, the session's end (ADMIN_SESSION_SECONDS) or a new password ends it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash, generate_password_hash

from ...config import AdminConfig
from ...configspec import env_name
from ..extensions import limiter, web
from .base import page, state

ENV_USER = env_name(AdminConfig, "user")
ENV_HASH = env_name(AdminConfig, "password_hash")
DEFAULTS: Mapping[str, Any] = {
    "ADMIN_MAX_FAILURES": 5,
    "ADMIN_LOCKOUT_SECONDS": 15 * 60,
    "ADMIN_SESSION_SECONDS": 12 * 3600,
    "ADMIN_LOGIN_LIMIT": "20 per minute",
}

bp = Blueprint("auth", __name__)


def credentials(account: AdminConfig) -> dict[str, str]:
    """The Flask settings for the editor's account (``settings.admin``)."""
    return {"ADMIN_USER": account.user, "ADMIN_PASSWORD_HASH": account.password_hash}


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
    """A session made at login that the server still holds: not logged out, not expired, same password."""
    token = session.get("admin_sid")
    if not enabled() or not isinstance(token, str):
        return False
    cfg = current_app.config
    return web().digest.sessions.valid(token, _fingerprint(cfg["ADMIN_USER"], cfg["ADMIN_PASSWORD_HASH"]))


def _safe_next(target: str | None) -> str:
    """``target`` when it is a page of this site under /admin, else the draft. Only printable ASCII without
    spaces or backslashes passes: a line break would split the Location header, a backslash or a control
    character is read as a host by some browsers."""
    if target and len(target) <= 2000 and all("!" <= ch <= "~" and ch != "\\" for ch in target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin"):
            return target
    return url_for("admin.draft.show")


def _disabled() -> ResponseReturnValue:
    return page("login.html", 503, disabled=True, env_user=ENV_USER, env_hash=ENV_HASH)


@bp.get("/login")
def login() -> ResponseReturnValue:
    if not enabled():
        return _disabled()
    nxt = _safe_next(request.args.get("next"))
    return redirect(nxt) if signed_in() else page("login.html", next=nxt)


@bp.post("/login")
@limiter.limit(lambda: str(current_app.config["ADMIN_LOGIN_LIMIT"]))  # POST only: every attempt is counted
def login_post() -> ResponseReturnValue:
    if not enabled():
        return _disabled()
    nxt = _safe_next(request.values.get("next"))
    cfg = current_app.config
    user = request.form.get("username", "").strip()[:200]
    password = request.form.get("password", "")
    key = (user.lower(), request.remote_addr or "?")
    lockout = state().lockout
    wait = lockout.remaining(key)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        return page(
            "login.html",
            429,
            next=nxt,
            username=user,
            error=f"Too many failed attempts. Try again in {minutes} minutes.",
        )
    known = hmac.compare_digest(user.encode(), str(cfg["ADMIN_USER"]).encode())
    good = check_password_hash(cfg["ADMIN_PASSWORD_HASH"] if known else _dummy_hash(), password)
    if not (known and good):
        lockout.fail(key)
        current_app.logger.warning("failed editor login for %r from %s", user, key[1])
        return page("login.html", 401, next=nxt, username=user, error="Wrong username or password.")
    lockout.clear(key)
    session.clear()
    session["admin"] = user
    session["admin_sid"] = web().digest.sessions.start(
        user, _fingerprint(cfg["ADMIN_USER"], cfg["ADMIN_PASSWORD_HASH"]), float(cfg["ADMIN_SESSION_SECONDS"])
    )
    return redirect(nxt, 303)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    token = session.get("admin_sid")
    if isinstance(token, str):
        web().digest.sessions.end(token)  # the cookie, if kept or copied, opens nothing any more
    session.clear()
    return redirect(url_for("admin.auth.login"), 303)
