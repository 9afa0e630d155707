"""ESP webhooks over waitress: correctly signed events are applied once; unsigned, badly signed and replayed
requests are refused and change nothing. The SNS certificate chain and the SendGrid key pair are made here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from digest.config import WebhooksConfig
from digest.facade import Digest
from subscribers.store import NewSubscriber

from .support.bounces import send_rows
from .support.web import Live, live_server

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
MAILGUN_KEY = "key-mailgun-test"


@pytest.fixture(scope="module")
def sns_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA(key_type=trustme.KeyType.RSA)  # SNS signs with RSA
    leaf = ca.issue_cert("sns.us-east-1.amazonaws.com", key_type=trustme.KeyType.RSA)
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key, leaf.cert_chain_pems[0].bytes()


@pytest.fixture(scope="module")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def live(
    tmp_path: Path, sns_cert: tuple[rsa.RSAPrivateKey, bytes], sendgrid_key: ec.EllipticCurvePrivateKey
) -> Iterator[tuple[Live, list[str]]]:
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hooks = WebhooksConfig(
        ses_topic_arn=TOPIC,
        postmark_user="pm",
        postmark_password="pm-secret",
        mailgun_signing_key=MAILGUN_KEY,
        sendgrid_public_key=base64.b64encode(public).decode(),
    )
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return sns_cert[1] if url == CERT_URL else b"<ConfirmSubscriptionResponse/>"

    with live_server(tmp_path, webhooks=hooks, bounce_address="bounces@example.org") as server:
        server.app.config["SNS_FETCH"] = fetch
        d = server.digest
        d.subscribers.add_many([NewSubscriber(f"sub{i}@example.com") for i in range(6)])
        send_rows(d, "2026-W40")
        yield server, fetched


def status(d: Digest, email: str) -> str:
    sub = d.subscribers.by_email(email)
    assert sub is not None
    return sub.status


def sns(
    key: rsa.RSAPrivateKey, kind: str = "Notification", when: datetime | None = None, **fields: str
) -> dict[str, str]:
    msg = {
        "Type": kind,
        "MessageId": fields.pop("MessageId", "m-1"),
        "TopicArn": fields.pop("TopicArn", TOPIC),
        "Timestamp": (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SignatureVersion": "2",
        "SigningCertURL": fields.pop("SigningCertURL", CERT_URL),
        **fields,
    }
    order = ("Message", "MessageId", "SubscribeURL", "Subject", "Timestamp", "Token", "TopicArn", "Type")
    text = "".join(f"{k}\n{msg[k]}\n" for k in order if k in msg)
    msg["Signature"] = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    return msg


def ses_bounce(email: str, kind: str = "Permanent") -> str:
    return json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": kind,
                "bouncedRecipients": [
                    {"emailAddress": email, "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
                ],
            },
            "mail": {"source": "digest@example.org", "commonHeaders": {"messageId": "<nope@x>"}},
        }
    )


def test_ses_through_sns(live: tuple[Live, list[str]], sns_cert: tuple[rsa.RSAPrivateKey, bytes]) -> None:
    server, fetched = live
    key, d, url = sns_cert[0], server.digest, f"{server.base}/webhooks/ses"
    confirm = sns(
        key,
        "SubscriptionConfirmation",
        Message="confirm",
        Token="t",
        SubscribeURL="https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
    )
    assert requests.post(url, data=json.dumps(confirm), timeout=10).status_code == 200
    assert fetched[-1].startswith("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription")

    good = sns(key, Message=ses_bounce("sub0@example.com"))
    first = requests.post(url, data=json.dumps(good), timeout=10)
    assert first.status_code == 200 and first.json()["outcomes"] == ["hard"]
    retry = requests.post(url, data=json.dumps(good), timeout=10)  # SNS retries the same message
    assert retry.status_code == 200 and retry.json()["outcomes"] == ["duplicate"]
    assert status(d, "sub0@example.com") == "bounced"

    refused = {
        401: [{k: v for k, v in sns(key, Message=ses_bounce("sub1@example.com")).items() if k != "Signature"}],
        403: [
            {
                **sns(key, MessageId="m-2", Message=ses_bounce("sub2@example.com")),
                "Message": ses_bounce("sub1@example.com"),
            },  # altered after signing
            sns(
                key,
                MessageId="m-3",
                Message=ses_bounce("sub1@example.com"),
                SigningCertURL="https://sns.evil.example/cert.pem",
            ),  # not an SNS host
            sns(key, MessageId="m-4", Message=ses_bounce("sub1@example.com"), TopicArn=TOPIC + "-other"),
            sns(
                key,
                MessageId="m-5",
                Message=ses_bounce("sub1@example.com"),
                when=datetime.now(UTC) - timedelta(hours=2),
            ),
        ],  # replayed later
    }
    for code, bodies in refused.items():
        for body in bodies:
            assert requests.post(url, data=json.dumps(body), timeout=10).status_code == code, body
    assert status(d, "sub1@example.com") == status(d, "sub2@example.com") == "active"


def test_postmark_with_basic_auth(live: tuple[Live, list[str]]) -> None:
    server, _ = live
    url, d = f"{server.base}/webhooks/postmark", server.digest
    event = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "ID": 42, "Email": "sub3@example.com"}
    assert requests.post(url, json=event, timeout=10).status_code == 401
    assert requests.post(url, json=event, auth=("pm", "wrong"), timeout=10).status_code == 403
    assert status(d, "sub3@example.com") == "active"
    assert requests.post(url, json=event, auth=("pm", "pm-secret"), timeout=10).json()["outcomes"] == ["complaint"]
    assert requests.post(url, json=event, auth=("pm", "pm-secret"), timeout=10).json()["outcomes"] == ["duplicate"]
    auto = {"RecordType": "Bounce", "Type": "AutoResponder", "ID": 43, "Email": "sub4@example.com"}
    assert requests.post(url, json=auto, auth=("pm", "pm-secret"), timeout=10).json()["outcomes"] == ["other"]
    assert status(d, "sub3@example.com") == "complained" and status(d, "sub4@example.com") == "active"


def mailgun(token: str, timestamp: int, event: dict[str, Any], key: str = MAILGUN_KEY) -> dict[str, Any]:
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": str(timestamp), "token": token, "signature": signature}, "event-data": event}


def test_mailgun_with_its_hmac_and_one_time_token(live: tuple[Live, list[str]]) -> None:
    server, _ = live
    url, d, now = f"{server.base}/webhooks/mailgun", server.digest, int(time.time())
    failed = {
        "event": "failed",
        "severity": "permanent",
        "id": "ev-1",
        "recipient": "sub4@example.com",
        "delivery-status": {"code": 550, "description": "No such mailbox"},
    }
    assert requests.post(url, json={"event-data": failed}, timeout=10).status_code == 401
    assert requests.post(url, json=mailgun("t0", now, failed, key="other"), timeout=10).status_code == 403
    assert requests.post(url, json=mailgun("t1", now - 3600, failed), timeout=10).status_code == 403
    assert status(d, "sub4@example.com") == "active"
    good = mailgun("t2", now, failed)
    assert requests.post(url, json=good, timeout=10).json()["outcomes"] == ["hard"]
    assert requests.post(url, json=good, timeout=10).status_code == 403  # the same signed request again
    assert requests.post(url, json=mailgun("t3", now, failed), timeout=10).json()["outcomes"] == ["duplicate"]
    assert status(d, "sub4@example.com") == "bounced"


def test_sendgrid_with_its_ecdsa_signature(
    live: tuple[Live, list[str]], sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    server, _ = live
    url, d = f"{server.base}/webhooks/sendgrid", server.digest
    body = json.dumps(
        [
            {"email": "sub5@example.com", "event": "spamreport", "sg_event_id": "sg-1"},
            {"email": "sub1@example.com", "event": "deferred", "sg_event_id": "sg-2"},
        ]
    ).encode()

    def signed(when: int, data: bytes = body) -> dict[str, str]:
        sig = sendgrid_key.sign(str(when).encode() + data, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(when),
            "Content-Type": "application/json",
        }

    now = int(time.time())
    assert requests.post(url, data=body, timeout=10).status_code == 401
    assert requests.post(url, data=body.replace(b"sub5", b"sub0"), headers=signed(now), timeout=10).status_code == 403
    assert requests.post(url, data=body, headers=signed(now - 3600), timeout=10).status_code == 403
    assert status(d, "sub5@example.com") == "active"
    first = requests.post(url, data=body, headers=signed(now), timeout=10)
    assert first.status_code == 200 and first.json()["outcomes"] == ["complaint"]
    assert requests.post(url, data=body, headers=signed(now + 1), timeout=10).json()["outcomes"] == ["duplicate"]
    assert status(d, "sub5@example.com") == "complained" and status(d, "sub1@example.com") == "active"


def test_a_webhook_without_its_secret_is_not_there(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        for name in ("ses", "postmark", "mailgun", "sendgrid"):
            assert requests.post(f"{server.base}/webhooks/{name}", data=b"{}", timeout=10).status_code == 404
