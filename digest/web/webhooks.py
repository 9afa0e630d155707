"""The ESPs' event webhooks: POST /webhooks/ses, /postmark, /mailgun, /sendgrid (no CSRF: they are signed).

Each checks the request (digest/bounces/webhooks.py), answers 401 or 403 and changes nothing when it is
not the provider's or is replayed, 404 while its secret is unset, and otherwise applies each event once
(digest/db/feedback.py) and answers 200, also to a provider's retry of events already applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import requests
from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..bounces import webhooks as hooks
from ..bounces.policy import Event, Policy
from .extensions import csrf, web

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


_certificates: dict[str, bytes] = {}  # SNS signing certificates by URL: they change rarely


def fetch(url: str) -> bytes:
    """An SNS certificate or subscription URL, over verified https (tests set SNS_FETCH instead)."""
    got: Callable[[str], bytes] | None = current_app.config.get("SNS_FETCH")
    if got is not None:
        return got(url)
    if url in _certificates:
        return _certificates[url]
    reply = requests.get(url, timeout=10)
    reply.raise_for_status()
    if url.endswith(".pem") and len(_certificates) < 16:
        _certificates[url] = reply.content
    return reply.content


def _now() -> datetime:
    return datetime.now(UTC)


def _apply(events: list[Event]) -> ResponseReturnValue:
    d = web().digest
    b = d.settings.bounces
    policy = Policy(b.soft_limit, b.soft_days, b.match_recipient)
    outcomes = [d.db.feedback.apply(e, policy).label for e in events]
    return jsonify(applied=len([o for o in outcomes if o != "duplicate"]), outcomes=outcomes)


def _refused(exc: hooks.Refused) -> ResponseReturnValue:
    log.warning("webhook %s refused: %s", request.path, exc.reason)
    return jsonify(error=exc.reason), exc.status


@bp.post("/ses")
def ses() -> ResponseReturnValue:
    topics = tuple(t.strip() for t in web().settings.webhooks.ses_topic_arn.split(",") if t.strip())
    if not topics:
        abort(404)
    try:
        msg = hooks.verify_sns(request.get_data(), topics, fetch, _now())
    except hooks.Refused as exc:
        return _refused(exc)
    if msg["Type"] == "SubscriptionConfirmation":
        fetch(hooks.sns_url(str(msg.get("SubscribeURL", ""))))
        log.info("confirmed the SNS subscription to %s", msg["TopicArn"])
        return jsonify(confirmed=msg["TopicArn"])
    if msg["Type"] != "Notification":
        return jsonify(applied=0)
    return _apply(hooks.ses_events(msg, web().digest.verp()))


@bp.post("/postmark")
def postmark() -> ResponseReturnValue:
    cfg = web().settings.webhooks
    if not (cfg.postmark_user and cfg.postmark_password):
        abort(404)
    try:
        hooks.verify_basic(request.headers.get("Authorization"), cfg.postmark_user, cfg.postmark_password)
    except hooks.Refused as exc:
        return _refused(exc)
    return _apply(hooks.postmark_events(request.get_data()))


@bp.post("/mailgun")
def mailgun() -> ResponseReturnValue:
    cfg = web().settings.webhooks
    if not cfg.mailgun_signing_key:
        abort(404)
    try:
        data, token = hooks.verify_mailgun(request.get_data(), cfg.mailgun_signing_key, _now())
        if not web().digest.db.feedback.first_use("mailgun-token", token):
            raise hooks.Refused(403, "this Mailgun token was used before: a replay is refused")
    except hooks.Refused as exc:
        return _refused(exc)
    return _apply(hooks.mailgun_events(data, web().digest.verp()))


@bp.post("/sendgrid")
def sendgrid() -> ResponseReturnValue:
    cfg = web().settings.webhooks
    if not cfg.sendgrid_public_key:
        abort(404)
    try:
        events = hooks.verify_sendgrid(
            request.get_data(),
            request.headers.get("X-Twilio-Email-Event-Webhook-Signature"),
            request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp"),
            cfg.sendgrid_public_key,
            _now(),
        )
    except hooks.Refused as exc:
        return _refused(exc)
    return _apply(hooks.sendgrid_events(events))
