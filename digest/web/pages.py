"""Rendering helpers shared by the public pages and the error handlers."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue


def page(template: str, status: int = 200, **ctx: Any) -> ResponseReturnValue:
    return render_template(f"web/{template}", **ctx), status


def info_page(heading: str, text: str, status: int = 200, **ctx: Any) -> ResponseReturnValue:
    """A page with a heading and a line of text: what a link or form did, or why it could not."""
    return page("message.html", status, heading=heading, text=text, **ctx)
