"""Which HTTP methods may change anything: POST only.

A view answers either the safe methods (GET, and HEAD, which Flask answers as a GET without the body) or
POST, never both: then HEAD or OPTIONS can never reach code written for a POST, CSRF protection (which
Flask-WTF skips for GET, HEAD and OPTIONS) and the rate limits sit on every view that can change state, and
no view has to tell methods apart. ``check_routes`` holds every route of an app to that when the app is
built, so a route added later that mixes them stops ``create_app`` instead of opening a door.
"""

from __future__ import annotations

from flask import Flask

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHANGING_METHODS = frozenset({"POST"})


class MixedRoute(RuntimeError):
    """A route whose view answers both a safe method and POST (or a method this app never uses)."""


def check_routes(app: Flask) -> None:
    """Raise MixedRoute naming the first route that breaks the rule above."""
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"OPTIONS"}  # Flask answers OPTIONS itself
        unsafe = methods - SAFE_METHODS
        if not unsafe:
            continue
        if unsafe - CHANGING_METHODS:
            raise MixedRoute(f"{rule.rule} ({rule.endpoint}) takes {', '.join(sorted(unsafe))}: use POST")
        if methods & SAFE_METHODS:
            raise MixedRoute(
                f"{rule.rule} ({rule.endpoint}) answers {', '.join(sorted(methods))} in one view: "
                "give GET and POST a view each"
            )
