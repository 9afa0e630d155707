"""The Flask extensions of the web side, created once here and bound to an app by ``create_app``
with ``init_app(app)``: CSRF protection, the rate limiter, and the holder of the app's Digest."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from subscribers.service import Audience

from ..config import Settings
from ..facade import Digest


@dataclass(frozen=True)
class Web:
    """What the views need, kept in ``app.extensions['digest']``."""

    digest: Digest
    audience: Audience

    @property
    def settings(self) -> Settings:
        return self.digest.settings


class DigestHolder:
    """Holds each app's Digest and Audience; views reach the current app's through ``digests.web``."""

    key = "digest"

    def init_app(self, app: Flask, web: Web) -> None:
        app.extensions[self.key] = web

    def of(self, app: Flask) -> Web:
        found: Web = app.extensions[self.key]
        return found

    @property
    def web(self) -> Web:
        return self.of(current_app)

    @property
    def digest(self) -> Digest:
        return self.web.digest


csrf = CSRFProtect()
limiter = Limiter(get_remote_address)
digests = DigestHolder()


def web() -> Web:
    """The current app's Digest and Audience."""
    return digests.web
