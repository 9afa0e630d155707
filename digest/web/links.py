"""The pages every email links to: one-click unsubscribe (RFC 8058) and preferences."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask.typing import ResponseReturnValue

from subscribers.model import Subscriber
from subscribers.tokens import BadToken

from ..collect.jurisdictions import choices
from .extensions import csrf, web
from .pages import info_page, page

ONE_CLICK = ("List-Unsubscribe", "One-Click")

bp = Blueprint("links", __name__)


def bad_link(what: str) -> ResponseReturnValue:
    return info_page(
        f"This {what} link is not valid",
        "It may have been cut short by your mail program. Open it again from the most recent email.",
        400,
    )


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """Mail scanners fetch links (GET or HEAD): this only shows the button."""
    try:
        web().audience.holder("unsubscribe", token)
    except BadToken:
        return bad_link("unsubscribe")
    return page("unsubscribe.html", token=token, field=ONE_CLICK)


@bp.post("/unsubscribe/<token>")
def unsubscribe_post(token: str) -> ResponseReturnValue:
    audience = web().audience
    try:
        if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
            return info_page(
                "Nothing was changed",
                "Press the button on the unsubscribe page to leave the list.",
                400,
                action=url_for("links.unsubscribe", token=token),
                action_label="Unsubscribe",
            )
        # A mail provider's one-click POST carries only the one field; the page's form also says via=page.
        audience.unsubscribe(token, "page" if request.form.get("via") == "page" else "one-click")
    except BadToken:
        return bad_link("unsubscribe")
    return info_page(
        "You are unsubscribed",
        "You will receive no more issues. If you change your mind, you can subscribe again at any time.",
        action=url_for("signup.subscribe"),
        action_label="Subscribe again",
    )


# Mail providers POST there on the reader's behalf (RFC 8058), without a form; the signed token is the proof.
csrf.exempt(unsubscribe_post)


@bp.get("/preferences/<token>")
def preferences(token: str) -> ResponseReturnValue:
    try:
        sub = web().audience.holder("preferences", token)
    except BadToken:
        return bad_link("preferences")
    return preferences_page(token, sub, saved=False)


@bp.post("/preferences/<token>")
def preferences_post(token: str) -> ResponseReturnValue:
    try:
        form = request.form
        sub = web().audience.save_preferences(
            token, form.getlist("topics"), "paused" in form, jurisdictions=form.getlist("jurisdictions")
        )
    except BadToken:
        return bad_link("preferences")
    return preferences_page(token, sub, saved=True)


def preferences_page(token: str, sub: Subscriber, saved: bool) -> ResponseReturnValue:
    audience = web().audience
    return page(
        "preferences.html",
        sub=sub,
        token=token,
        saved=saved,
        topics=web().digest.taxonomy.topics,
        places=choices(web().digest.settings.jurisdictions, also=sub.jurisdictions),
        unsubscribe_url=audience.link("unsubscribe", sub),
    )
