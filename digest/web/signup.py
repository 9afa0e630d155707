"""Sign-up with double opt-in: the /subscribe form, the JSON endpoint, and the confirmation page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from subscribers.model import SubscriberStatus
from subscribers.tokens import BadToken
from subscribers.validation import InvalidAddress, InvalidName, normalize_email

from ..collect.jurisdictions import choices, is_code
from .extensions import csrf, limiter, web
from .pages import info_page, page

HONEYPOT = "website"  # hidden from people by CSS; a bot that fills it is told "check your inbox" and ignored
SENT = (
    "Check your inbox",
    "If the address can receive our emails, a message with a confirmation link is on "
    "its way. Your subscription starts when you press the button on the page that link opens.",
)


def _address_key() -> str:
    """The rate-limit key for the address being signed up (the client's address when there is none)."""
    if request.is_json:
        data = request.get_json(silent=True)
        raw = data.get("email") if isinstance(data, dict) else None
    else:
        raw = request.form.get("email")
    value = str(raw or "").strip()
    try:  # the form the store keeps: domain variants that reach one inbox share one limit
        value = normalize_email(value)
    except InvalidAddress:
        value = value.lower()
    return f"address:{value}" if value else get_remote_address()


bp = Blueprint("signup", __name__)
# Shared by the form and the JSON endpoint, so one cannot be used to get round the other.
# The views they guard take POST only, so every request that reaches one is counted, whatever its method.
per_client = limiter.shared_limit(lambda: str(current_app.config["SUBSCRIBE_LIMIT_CLIENT"]), scope="subscribe-client")
per_address = limiter.shared_limit(
    lambda: str(current_app.config["SUBSCRIBE_LIMIT_ADDRESS"]), scope="subscribe-address", key_func=_address_key
)


def form_page(status: int = 200, error: str = "", **values: Any) -> ResponseReturnValue:
    topics = web().digest.taxonomy.topics
    places = choices(web().digest.settings.jurisdictions)
    return page("subscribe.html", status, topics=topics, places=places, error=error, values=values)


@bp.route("/", methods=["GET"])
def home() -> ResponseReturnValue:
    return form_page()


@bp.get("/subscribe")
def subscribe() -> ResponseReturnValue:
    return form_page()


@bp.post("/subscribe")
@per_client
@per_address
def subscribe_post() -> ResponseReturnValue:
    form = request.form
    if form.get(HONEYPOT):
        return info_page(*SENT)
    email, name, topics = form.get("email", ""), form.get("name", ""), form.getlist("topics")
    places = form.getlist("jurisdictions")
    try:
        web().audience.subscribe(
            email, name, topics, "form", request.remote_addr, request.user_agent.string, jurisdictions=places
        )
    except InvalidAddress as exc:
        return form_page(
            400, f"That address does not look right: {exc}", email=email, name=name, topics=topics, places=places
        )
    except InvalidName as exc:
        return form_page(400, f"Please check your name: {exc}", email=email, topics=topics, places=places)
    return info_page(*SENT)


@bp.post("/api/subscribe")  # a browser's CORS preflight (OPTIONS) gets Flask's automatic answer
@per_client
@per_address
def api_subscribe() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="send a JSON object", detail='for example {"email": "reader@example.org"}'), 400
    if data.get(HONEYPOT):
        return jsonify(status="ok", detail=SENT[1]), 202
    topics = data.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(x, str) for x in topics):
        return jsonify(error="topics must be a list of topic names", detail=", ".join(web().audience.topics)), 400
    places = data.get("jurisdictions") or []
    if not isinstance(places, list) or not all(isinstance(x, str) for x in places):
        return jsonify(error="jurisdictions must be a list of codes", detail='for example ["upc", "eu"]'), 400
    unknown = [x for x in places if not is_code(x.strip().lower())]
    if unknown:
        detail = "ISO 3166 alpha-2 country codes (us, de, gb), or eu, upc, int"
        return jsonify(error=f"unknown jurisdiction {unknown[0]!r}", detail=detail), 400
    try:
        web().audience.subscribe(
            str(data.get("email") or ""),
            str(data.get("name") or ""),
            topics,
            "api",
            request.remote_addr,
            request.user_agent.string,
            jurisdictions=places,
        )
    except InvalidAddress as exc:
        return jsonify(error="invalid address", detail=str(exc)), 400
    except InvalidName as exc:
        return jsonify(error="invalid name", detail=str(exc)), 400
    return jsonify(status="ok", detail=SENT[1]), 202


# Called from other sites: double opt-in, the honeypot and the rate limits protect it instead.
csrf.exempt(api_subscribe)


@bp.after_app_request
def cors(response: Any) -> Any:
    if request.path == "/api/subscribe":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _bad_confirmation() -> ResponseReturnValue:
    return info_page(
        "This confirmation link is not valid",
        "It may have expired (links work for seven days) or been cut short. Subscribe again to get a new one.",
        400,
        action=url_for("signup.subscribe"),
        action_label="Subscribe again",
    )


@bp.get("/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    """The page with the button: mail scanners fetch links (GET or HEAD), so this changes nothing."""
    try:
        web().audience.holder("confirm", token)
    except BadToken:
        return _bad_confirmation()
    return page("confirm.html", token=token)


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> ResponseReturnValue:
    audience = web().audience
    try:
        sub = audience.confirm(token, request.remote_addr, request.user_agent.string)
    except BadToken:
        return _bad_confirmation()
    if sub.status != SubscriberStatus.ACTIVE:
        return info_page(
            "This link no longer applies",
            "Subscribe again to get a new confirmation link.",
            400,
            action=url_for("signup.subscribe"),
            action_label="Subscribe again",
        )
    return info_page(
        "You are subscribed",
        "Thank you. The next issue will reach you on its publication day.",
        action=audience.link("preferences", sub),
        action_label="Choose your topics",
    )
