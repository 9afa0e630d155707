"""The web side (Flask): sign-up with double opt-in, one-click unsubscribe, preferences, the issue archive.

``create_app(settings)`` builds the app; ``digest serve`` runs it under waitress. The views are thin:
subscriber operations live in subscribers.service, issues come from the Digest facade.

Only POST changes anything, and a view takes either GET (HEAD answered as GET) or POST (see methods.py).

    /subscribe                 GET form, POST (CSRF, honeypot, rate-limited) → confirmation email
    /api/subscribe             POST JSON {"email", "name"?, "topics"?, "jurisdictions"?} → 202 (for embedding)
    /confirm/<token>           GET page with a button, POST records consent (time and IP)
    /unsubscribe/<token>       GET page with a button; POST List-Unsubscribe=One-Click (RFC 8058) → 200
    /preferences/<token>       GET form, POST (CSRF): topics, pause and resume
    /issues                    the archive of sent issues
    /issues/<id>               one sent issue as a page, sections anchored #<topic>
    /issues/feed.xml           Atom feed of the archive
    /r/<token>[/<reader>]      a tracked article link → 302 to the article (see clicks.py)
    /healthz, /readyz, /metrics the operator's (see health.py)
    /admin/…                   the editor's pages (see admin/), behind a login
    /webhooks/ses|postmark|mailgun|sendgrid   ESP bounce and complaint events (see webhooks.py)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from subscribers.service import Audience

from ..collect.jurisdictions import all_codes
from ..config import Settings
from ..delivery.notices import NoticeOutbox
from ..facade import Digest
from ..issue.render import reader_url
from . import admin, archive, clicks, health, links, signup, webhooks
from .extensions import Web, csrf, digests, limiter, web
from .methods import check_routes
from .pages import info_page, page

__all__ = ["Web", "create_app", "info_page", "page", "start_mail", "stop_mail", "web"]

DEFAULTS: Mapping[str, Any] = {
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    "RATELIMIT_ENABLED": True,  # set on every app: the limiter is shared, and would keep another app's choice
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
}

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def create_app(
    settings: Settings, *, config: Mapping[str, Any] | None = None, digest: Digest | None = None, proxies: int = 0
) -> Flask:
    """The Flask app for ``settings``; ``config`` overrides Flask settings (tests), ``proxies`` is how many
    reverse proxies in front are trusted for X-Forwarded-For/-Proto/-Host."""
    d = digest or Digest(settings)
    app = Flask(__name__, static_folder=None)
    app.jinja_env.loader = d.renderer.env.loader  # the editor's templates folder first, then the bundled ones
    app.jinja_env.filters.update(
        {k: d.renderer.env.filters[k] for k in ("date", "clean", "registers", "title_numbers")}
    )
    app.jinja_env.filters["safe_url"] = reader_url  # pages link articles without their feeds' tracking tags
    d.complete_archive()  # numbers of stories an upgrade copied into the archive: searches read them as is
    secret = d.secret_key
    app.config.update(DEFAULTS)
    app.config.update(admin.DEFAULTS)
    app.config.update(admin.credentials(settings.admin))
    app.config.update(
        SECRET_KEY=hmac.new(secret.encode(), b"ip-digest.web-session", hashlib.sha256).hexdigest(),
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        SUBSCRIBE_LIMIT_CLIENT=settings.web.subscribe_limit_client,
        SUBSCRIBE_LIMIT_ADDRESS=settings.web.subscribe_limit_address,
    )
    app.config.update(config or {})
    digests.init_app(
        app,
        Web(
            d,
            Audience(
                d.subscribers,
                d.tokens,
                settings.base_url,
                [t.slug for t in d.taxonomy.topics],
                d.notice_outbox(),
                jurisdictions=all_codes(),
            ),
        ),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(signup.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(archive.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(clicks.bp)
    app.register_blueprint(webhooks.bp)
    admin.init_app(app)
    check_routes(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Exception, _crash)
    app.after_request(_headers)
    app.context_processor(lambda: {"title": settings.title, "base_url": settings.base_url})
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    return app


def start_mail(app: Flask) -> None:
    """At server start: send the sign-up mail that an earlier run left waiting."""
    notify = digests.of(app).audience.notify
    if isinstance(notify, NoticeOutbox):
        notify.start()


def stop_mail(app: Flask, timeout: float | None = None) -> None:
    """At a clean stop: let the message in flight of a *Send now* and of the sign-up mail finish, and
    stop both (the rest of the issue is finished by the next sender; the notices wait in the database)."""
    from .admin.sending import EXTENSION

    sends = app.extensions.get(EXTENSION)
    stop = getattr(sends, "stop", None)
    if stop is not None:
        stop(timeout)
    notify = digests.of(app).audience.notify
    if isinstance(notify, NoticeOutbox):
        notify.stop(timeout)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    texts = {
        400: (
            "This link or request is not valid",
            "It may have been mistyped, cut short by your mail program, "
            "or it has expired. Open it again from the most recent email, or subscribe again.",
        ),
        403: ("Not allowed", "Sign in first: editors' pages and actions need a signed-in editor."),
        404: ("Not found", "There is no page at this address."),
        405: ("Not allowed", "This page cannot be used that way."),
        413: ("Too large", "The request was larger than this site accepts."),
        429: ("Too many requests", "Please wait a little and try again."),
    }
    heading, text = texts.get(code, ("Something went wrong", "Please try again later."))
    if _wants_json():
        return jsonify(error=heading, detail=text), code
    return info_page(heading, text, code)


def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error="form expired", detail=str(exc.description)), 400
    return info_page("This form has expired", "Please reload the page and send the form again.", 400)


def _crash(exc: Exception) -> ResponseReturnValue:
    current_app.logger.exception("unexpected error on %s", request.path)
    if _wants_json():
        return jsonify(error="internal error", detail="please try again later"), 500
    return info_page("Something went wrong", "Please try again later.", 500)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # the links carry tokens
    response.headers.setdefault("X-Frame-Options", "DENY")  # the editor's preview frames allow SAMEORIGIN
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"
    return response
