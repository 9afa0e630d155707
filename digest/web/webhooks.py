"""The ESPs' event webhooks: POST /webhooks/ses, /postmark, /mailgun, /sendgrid (no CSRF: they are signed).

Each checks the request (digest/bounces/webhooks.py), answers 401 or 403 and changes nothing when it is
not the provider's or is replayed, 400 for a body it cannot read, 404 while its secret is unset, and
otherwise applies each event once (digest/db/feedback.py) and answers 200, also to a provider's retry of
events already applied. Failed checks are counted per client: past WEBHOOK_FAILURE_LIMIT the client gets
429 (a password or key cannot be guessed at speed). What went wrong fetching an SNS URL goes to the log,
never into the answer.

Flask settings: SNS_CA_FILE (the roots SNS certificates and TLS are checked against; the system's by
default) and SNS_CONNECT ({host: (address, port)}: where to connect for a checked SNS host, for tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from subscribers.clock import now

from ..bounces import webhooks as hooks
from ..bounces.policy import BounceEvent
from ..bounces.sns import FetchFailed, SnsFetcher
from .extensions import csrf, limiter, web

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
FETCHER = "digest_sns"
FAILURE_LIMIT = "20 per minute"


def _refusal(response: Response) -> bool:
    return response.status_code in (401, 403)


# Only refused requests count, so a provider's steady stream of good ones is never limited.
limiter.limit(
    lambda: str(current_app.config.get("WEBHOOK_FAILURE_LIMIT", FAILURE_LIMIT)),
    scope="webhook-failures",
    deduct_when=_refusal,
)(bp)


def fetcher() -> SnsFetcher:
    """The app's SNS fetcher (it keeps verified certificates), made on first use from the settings."""
    found = current_app.extensions.get(FETCHER)
    if found is None:
        ca = current_app.config.get("SNS_CA_FILE")
        found = SnsFetcher(connect=current_app.config.get("SNS_CONNECT") or {})
        if ca:
            found.ca_file = str(ca)
        current_app.extensions[FETCHER] = found
    assert isinstance(found, SnsFetcher)
    return found


def _apply(read: Callable[[], list[BounceEvent]]) -> ResponseReturnValue:
    try:
        events = read()
    except hooks.Refused as exc:
        return _refused(exc)
    except (AttributeError, TypeError, ValueError, KeyError, RecursionError, OverflowError) as exc:
        log.warning("webhook %s: events that cannot be read: %r", request.path, exc)
        return jsonify(error="the events could not be read"), 400
    d = web().digest
    outcomes = [d.apply_feedback(e).label for e in events]
    return jsonify(applied=len([o for o in outcomes if o != "duplicate"]), outcomes=outcomes)


def _refused(exc: hooks.Refused) -> ResponseReturnValue:
    log.warning("webhook %s refused: %s", request.path, exc.reason)
    return jsonify(error=exc.reason), exc.status


@bp.post("/ses")
def ses() -> ResponseReturnValue:
    topics = tuple(t.strip() for t in web().settings.webhooks.ses_topic_arn.split(",") if t.strip())
    if not topics:
        abort(404)
    sns = fetcher()
    at = now()
    try:
        msg = hooks.verify_sns(request.get_data(), topics, lambda url: sns.certificate(url, at), at)
        if msg["Type"] == "SubscriptionConfirmation":
            url = hooks.sns_url(msg.get("SubscribeURL"), "SubscribeURL")
    except hooks.Refused as exc:
        return _refused(exc)
    if msg["Type"] == "SubscriptionConfirmation":
        try:
            sns.get(url)
        except FetchFailed as exc:
            log.warning("the SNS subscription to %s could not be confirmed: %s", msg["TopicArn"], exc)
            return jsonify(error="the subscription could not be confirmed; SNS will send its request again"), 502
        log.info("confirmed the SNS subscription to %s", msg["TopicArn"])
        return jsonify(confirmed=msg["TopicArn"])
    if msg["Type"] != "Notification":
        return jsonify(applied=0)
    return _apply(lambda: hooks.ses_events(msg, web().digest.verp()))


@bp.post("/postmark")
def postmark() -> ResponseReturnValue:
    cfg = web().settings.webhooks
    if not (cfg.postmark_user and cfg.postmark_password):
        abort(404)
    try:
        hooks.verify_basic(request.headers.get("Authorization"), cfg.postmark_user, cfg.postmark_password)
    except hooks.Refused as exc:
        return _refused(exc)
    return _apply(lambda: hooks.postmark_events(request.get_data()))


@bp.post("/mailgun")
def mailgun() -> ResponseReturnValue:
    cfg = web().settings.webhooks
    if not cfg.mailgun_signing_key:
        abort(404)
    try:
        data, token = hooks.verify_mailgun(request.get_data(), cfg.mailgun_signing_key, now())
        if not web().digest.first_use("mailgun-token", token):
            raise hooks.Refused(403, "this Mailgun token was used before: a replay is refused")
    except hooks.Refused as exc:
        return _refused(exc)
    return _apply(lambda: hooks.mailgun_events(data, web().digest.verp()))


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
            now(),
        )
    except hooks.Refused as exc:
        return _refused(exc)
    return _apply(lambda: hooks.sendgrid_events(events))
