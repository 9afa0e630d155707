"""ESP event webhooks: check that a request is the provider's and fresh, then turn it into Events. Pure,
but for the SNS certificate (and subscription confirmation), fetched through the caller's ``fetch``.

    SES via SNS   the SNS signature (SignatureVersion 1: SHA1, 2: SHA256, RSA PKCS#1 v1.5) with the
                  certificate at SigningCertURL, which must be https on sns.<region>.amazonaws.com and
                  hold a certificate issued to sns.amazonaws.com by a trusted CA (sns.py); the topic
                  must be one of SES_TOPIC_ARN; Timestamp within the last hour
    Postmark      HTTP basic auth (Postmark has no signature); events are applied once by their ID
    Mailgun       HMAC-SHA256 of timestamp + token with the signing key; timestamp within 5 minutes;
                  a token seen before is a replay. The signature does not cover the body: whoever
                  holds one signed (timestamp, token) pair unused can attach any events to it
    SendGrid      ECDSA P-256 SHA-256 over timestamp + body, the X-Twilio-Email-Event-Webhook-* headers;
                  timestamp within 10 minutes

A request that fails these raises Refused (400 for a body that cannot be read, 401 without credentials, 403
with wrong ones or a replay) and changes nothing. Each event keeps the provider's own id as its key, so a
retry is applied once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .policy import BounceEvent
from .reasons import judge
from .sns import BadUrl, FetchFailed, SnsUrl, parse_url
from .verp import Verp

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)
SNS_AGE = timedelta(hours=1)
MAILGUN_AGE = timedelta(minutes=5)
SENDGRID_AGE = timedelta(minutes=10)
Certificate = Callable[[SnsUrl], "x509.Certificate"]  # the verified signing certificate at a URL


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


def _fresh(when: datetime, now: datetime, age: timedelta) -> None:
    if abs(now - when) > age:
        raise Refused(403, "the request is too old (or from the future): a replay is refused")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: brackets nested past what the parser follows
        raise Refused(400, "the body is not JSON") from None


def _bounce(provider_says_permanent: bool, status: str, text: str) -> tuple[str, str]:
    """(label, reason) of a provider's bounce event: the reason from its code and words, as for mail; the
    provider's own permanent/temporary verdict counts only where those say nothing known."""
    verdict = judge(status, text, provider_says_permanent)
    if verdict.reason == "undefined":
        return ("hard" if provider_says_permanent else "soft"), verdict.reason
    return ("hard" if verdict.hard else "soft"), verdict.reason


def _timestamp(value: object) -> datetime:
    """A Unix time as a datetime; ValueError for anything else (a huge number included)."""
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (OverflowError, OSError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def _message_id(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    value = value.strip()
    return (value if value.startswith("<") else f"<{value}>",)


# -- Amazon SES through SNS ---------------------------------------------------------------------------

SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
SNS_FIELDS["UnsubscribeConfirmation"] = SNS_FIELDS["SubscriptionConfirmation"]


def sns_url(url: object, field: str = "SigningCertURL") -> SnsUrl:
    """``url`` parsed as an SNS URL (sns.parse_url), or Refused saying which rule it breaks."""
    try:
        return parse_url(url if isinstance(url, str) else "")
    except BadUrl as exc:
        raise Refused(403, f"{field} refused: {exc}") from None


def verify_sns(body: bytes, topics: tuple[str, ...], certificate: Certificate, now: datetime) -> dict[str, Any]:
    """The SNS message, once its topic, signing certificate, signature and age are checked."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    msg = _json(body)
    if not isinstance(msg, dict) or msg.get("Type") not in SNS_FIELDS or "Signature" not in msg:
        raise Refused(401, "not a signed SNS message")
    if msg.get("TopicArn") not in topics:
        raise Refused(403, f"topic {msg.get('TopicArn')!r} is not in SES_TOPIC_ARN")
    version = str(msg.get("SignatureVersion", "1"))
    if version not in ("1", "2"):
        raise Refused(403, f"unknown SNS SignatureVersion {version}")
    text = "".join(f"{k}\n{msg[k]}\n" for k in SNS_FIELDS[msg["Type"]] if k in msg)
    url = sns_url(msg.get("SigningCertURL"))
    try:
        cert = certificate(url)
    except FetchFailed as exc:  # the reason goes to the log only: it would describe other hosts to a stranger
        log.warning("SNS signing certificate refused: %s", exc)
        raise Refused(403, "the SNS signing certificate could not be fetched or is not Amazon's") from None
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(403, "the SNS certificate does not hold an RSA key")
    try:
        key.verify(
            base64.b64decode(msg["Signature"]),
            text.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA1() if version == "1" else hashes.SHA256(),
        )  # version 1 is SHA1, as SNS signs it
    except (InvalidSignature, ValueError):
        raise Refused(403, "the SNS signature does not verify") from None
    try:
        sent = datetime.fromisoformat(str(msg.get("Timestamp", "")).replace("Z", "+00:00"))
        if sent.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        raise Refused(403, "the SNS message has no valid Timestamp") from None
    _fresh(sent, now, SNS_AGE)
    return msg


def ses_events(msg: dict[str, Any], verp: Verp | None) -> list[BounceEvent]:
    """The SES notification (the SNS Message) as one BounceEvent per recipient."""
    note = _json(str(msg.get("Message", "")).encode())
    if not isinstance(note, dict):
        return []
    kind = note.get("notificationType") or note.get("eventType")
    mail = note.get("mail") or {}
    ref = verp.read(str(mail.get("source", ""))) if verp is not None else None
    ids = _message_id((mail.get("commonHeaders") or {}).get("messageId"))
    out = []
    if kind == "Bounce":
        bounce = note.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        sub = str(bounce.get("bounceSubType") or "")
        for r in bounce.get("bouncedRecipients") or []:
            diagnostic = str(r.get("diagnosticCode") or "")
            label, reason = _bounce(permanent, str(r.get("status") or ""), f"{diagnostic} {sub}")
            out.append(
                BounceEvent(
                    "ses",
                    f"{msg['MessageId']}:{r.get('emailAddress')}",
                    label,
                    str(r.get("status") or ""),
                    diagnostic,
                    ref,
                    ids,
                    (str(r.get("emailAddress", "")).lower(),),
                    reason,
                    True,
                )
            )
    elif kind == "Complaint":
        complaint = note.get("complaint") or {}
        for r in complaint.get("complainedRecipients") or []:
            out.append(
                BounceEvent(
                    "ses",
                    f"{msg['MessageId']}:{r.get('emailAddress')}",
                    "complaint",
                    str(complaint.get("complaintFeedbackType") or "abuse"),
                    "",
                    ref,
                    ids,
                    (str(r.get("emailAddress", "")).lower(),),
                    "feedback",
                    True,
                )
            )
    return out


# -- Postmark ---------------------------------------------------------------------------------------------

POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
POSTMARK_SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked"})  # the rest (AutoResponder…): nothing


def verify_basic(header: str | None, user: str, password: str) -> None:
    if not header or not header.lower().startswith("basic "):
        raise Refused(401, "basic auth is required")
    try:
        given = base64.b64decode(header[6:].strip()).decode("utf-8")
    except ValueError:
        raise Refused(401, "malformed basic auth") from None
    if not hmac.compare_digest(given.encode(), f"{user}:{password}".encode()):
        raise Refused(403, "wrong user or password")


def postmark_events(body: bytes) -> list[BounceEvent]:
    note = _json(body)
    if not isinstance(note, dict):
        return []
    key, email = f"{note.get('RecordType')}:{note.get('ID')}", str(note.get("Email", "")).lower()
    if note.get("RecordType") == "SpamComplaint" or note.get("Type") == "SpamComplaint":
        return [
            BounceEvent(
                "postmark",
                key,
                "complaint",
                "abuse",
                str(note.get("Description") or ""),
                recipients=(email,),
                reason="feedback",
                authenticated=True,
            )
        ]
    if note.get("RecordType") == "Bounce":
        kind = note.get("Type")
        label, reason = "other", ""
        if kind in POSTMARK_HARD or kind in POSTMARK_SOFT:
            label, reason = _bounce(kind in POSTMARK_HARD, "", str(note.get("Details") or ""))
        return [
            BounceEvent(
                "postmark",
                key,
                label,
                str(note.get("Type") or "")[:20],
                str(note.get("Details") or ""),
                recipients=(email,),
                reason=reason,
                authenticated=True,
            )
        ]
    return []


# -- Mailgun ---------------------------------------------------------------------------------------------


def verify_mailgun(body: bytes, signing_key: str, now: datetime) -> tuple[dict[str, Any], str]:
    """(the event data, the request's token) once the HMAC and the timestamp are checked."""
    payload = _json(body)
    sig = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(sig, dict) or not all(k in sig for k in ("timestamp", "token", "signature")):
        raise Refused(401, "no Mailgun signature")
    expected = hmac.new(signing_key.encode(), f"{sig['timestamp']}{sig['token']}".encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), str(sig["signature"])):
        raise Refused(403, "the Mailgun signature does not verify")
    try:
        sent = _timestamp(sig["timestamp"])
    except ValueError:
        raise Refused(400, "the Mailgun timestamp is not a time") from None
    _fresh(sent, now, MAILGUN_AGE)
    data = payload.get("event-data")
    return (data if isinstance(data, dict) else {}), str(sig["token"])


def mailgun_events(data: dict[str, Any], verp: Verp | None) -> list[BounceEvent]:
    kind = data.get("event")
    email = str(data.get("recipient", "")).lower()
    ref = verp.read(str((data.get("envelope") or {}).get("sender", ""))) if verp is not None else None
    ids = _message_id(((data.get("message") or {}).get("headers") or {}).get("message-id"))
    key = str(data.get("id", ""))
    if kind == "complained":
        return [BounceEvent("mailgun", key, "complaint", "abuse", "", ref, ids, (email,), "feedback", True)]
    if kind == "failed":
        status = data.get("delivery-status") or {}
        text = str(status.get("description") or status.get("message") or "")
        code = str(status.get("code") or "")
        label, reason = _bounce(data.get("severity") == "permanent", "", f"{code} {text}")
        return [BounceEvent("mailgun", key, label, code, text, ref, ids, (email,), reason, True)]
    return []


# -- SendGrid --------------------------------------------------------------------------------------------


def verify_sendgrid(
    body: bytes, signature: str | None, timestamp: str | None, public_key: str, now: datetime
) -> list[dict[str, Any]]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if not signature or not timestamp:
        raise Refused(401, "no SendGrid signature")
    key = serialization.load_der_public_key(base64.b64decode(public_key))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(403, "SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA key")
    try:
        key.verify(base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise Refused(403, "the SendGrid signature does not verify") from None
    try:
        sent = _timestamp(timestamp)
    except ValueError:
        raise Refused(400, "the SendGrid timestamp is not a time") from None
    _fresh(sent, now, SENDGRID_AGE)
    events = _json(body)
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def sendgrid_events(events: list[dict[str, Any]]) -> list[BounceEvent]:
    out = []
    for e in events:
        email, key = str(e.get("email", "")).lower(), str(e.get("sg_event_id", ""))
        ids = _message_id(e.get("smtp-id"))
        if e.get("event") == "spamreport":
            out.append(BounceEvent("sendgrid", key, "complaint", "abuse", "", None, ids, (email,), "feedback", True))
        elif e.get("event") in ("bounce", "dropped"):
            status = str(e.get("status") or "")
            text = str(e.get("reason") or "")
            permanent = e.get("type") != "blocked" and not status.startswith("4")
            label, reason = _bounce(permanent, status, text)
            if e.get("type") == "blocked" and reason == "undefined":
                reason = "blocked"
            out.append(BounceEvent("sendgrid", key, label, status, text, None, ids, (email,), reason, True))
    return out
