"""ESP webhooks over waitress: correctly signed events are applied once; unsigned, badly signed and replayed
requests are refused and change nothing. The SNS certificate chain and the SendGrid key pair are made here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from digest.config import WebhooksConfig
from digest.facade import Digest
from subscribers.model import NewSubscriber

from .support.bounces import send_rows
from .support.http import Site
from .support.tls import Host, https_host
from .support.web import Live, live_server

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
SNS, SIGNER = "sns.us-east-1.amazonaws.com", "sns.amazonaws.com"
CERT_PATH = "/SimpleNotificationService-test.pem"
CERT_URL = f"https://{SNS}{CERT_PATH}"
MAILGUN_KEY = "key-mailgun-test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """The test's own CA, standing in for the public CAs: it issues SNS's TLS and signing certificates."""
    return trustme.CA(key_type=trustme.KeyType.RSA)  # SNS signs with RSA


def signing_cert(ca: trustme.CA, name: str = SIGNER) -> tuple[rsa.RSAPrivateKey, bytes]:
    """A signing certificate made as Amazon's is (subject and SAN ``name``), issued by an intermediate of
    ``ca``; the PEM holds it and the intermediate."""
    middle = ca.create_child_ca(key_type=trustme.KeyType.RSA)
    issuer_key = serialization.load_pem_private_key(middle.private_key_pem.bytes(), None)
    issuer = x509.load_pem_x509_certificate(middle.cert_pem.bytes())
    assert isinstance(issuer_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM) + middle.cert_pem.bytes()


@pytest.fixture(scope="module")
def sns_cert(ca: trustme.CA) -> tuple[rsa.RSAPrivateKey, bytes]:
    return signing_cert(ca)


@pytest.fixture(scope="module")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def live(
    tmp_path: Path,
    ca: trustme.CA,
    sns_cert: tuple[rsa.RSAPrivateKey, bytes],
    sendgrid_key: ec.EllipticCurvePrivateKey,
) -> Iterator[tuple[Live, Host]]:
    """The app, and SNS's host (sns.us-east-1.amazonaws.com, served on 127.0.0.1 by the test's CA)."""
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
    roots = tmp_path / "roots.pem"
    ca.cert_pem.write_to_path(str(roots))
    with (
        https_host("127.0.0.1", ca, SNS) as amazon,
        live_server(tmp_path, webhooks=hooks, bounce_address="bounces@example.org") as server,
    ):
        amazon.bodies.update({CERT_PATH: sns_cert[1], "/": b"<ConfirmSubscriptionResponse/>"})
        server.app.config.update(
            SNS_CA_FILE=str(roots),
            SNS_CONNECT={SNS: ("127.0.0.1", amazon.port)},
            WEBHOOK_FAILURE_LIMIT="1000 per minute",  # the tests below are refused on purpose, many times
        )
        d = server.digest
        d.subscribers.add_many([NewSubscriber(f"sub{i}@example.com") for i in range(6)])
        send_rows(d, "2026-W40")
        yield server, amazon


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


def test_ses_through_sns(live: tuple[Live, Host], sns_cert: tuple[rsa.RSAPrivateKey, bytes]) -> None:
    server, amazon = live
    key, d, url = sns_cert[0], server.digest, f"{server.base}/webhooks/ses"
    confirm = sns(
        key,
        "SubscriptionConfirmation",
        Message="confirm",
        Token="t",
        SubscribeURL="https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
    )
    assert requests.post(url, data=json.dumps(confirm), timeout=10).status_code == 200
    assert amazon.paths[-1] == "/?Action=ConfirmSubscription&Token=t"

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
    assert amazon.paths.count(CERT_PATH) == 1, "the verified certificate is kept for the next message"


def test_postmark_with_basic_auth(live: tuple[Live, Host]) -> None:
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


def test_mailgun_with_its_hmac_and_one_time_token(live: tuple[Live, Host]) -> None:
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


def test_sendgrid_with_its_ecdsa_signature(live: tuple[Live, Host], sendgrid_key: ec.EllipticCurvePrivateKey) -> None:
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


@pytest.fixture
def attacker() -> Iterator[tuple[Host, rsa.RSAPrivateKey]]:
    """Another host on a second loopback address (127.0.0.2), with a CA nobody trusts: it answers for SNS's
    name and serves a signing certificate of its own."""
    other = trustme.CA(key_type=trustme.KeyType.RSA)
    key, pem = signing_cert(other)
    with https_host("127.0.0.2", other, SNS) as evil:
        evil.bodies["/cert.pem"] = pem
        yield evil, key


def test_sns_urls_that_could_reach_another_host_are_refused_before_any_connection(
    live: tuple[Live, Host],
    attacker: tuple[Host, rsa.RSAPrivateKey],
    sns_cert: tuple[rsa.RSAPrivateKey, bytes],
) -> None:
    server, amazon = live
    evil, evil_key = attacker
    url, d, at = f"{server.base}/webhooks/ses", server.digest, f"127.0.0.2:{evil.port}"
    forged = [
        f"https://{at}\\@{SNS}/cert.pem",  # a backslash: one parser's user part is another's host
        f"https://{at}@{SNS}/cert.pem",
        f"https://{SNS}@{at}/cert.pem",
        f"https://reader@{SNS}/cert.pem",
        f"http://{SNS}/cert.pem",
        f"https://{SNS}:{evil.port}/cert.pem",
        f"https://{SNS}:443@{at}/cert.pem",
        f"https://{SNS}.127.0.0.2.example/cert.pem",
        f"https://{SNS}%2F@{at}/cert.pem",
        f"https://{SNS}\t/cert.pem",
        f"https://{SNS}#@{at}/cert.pem",
        f"https:/{SNS}/cert.pem",
        f"//{SNS}/cert.pem",
    ]
    for n, cert_url in enumerate(forged):
        msg = sns(evil_key, MessageId=f"f-{n}", Message=ses_bounce("sub1@example.com"), SigningCertURL=cert_url)
        resp = requests.post(url, data=json.dumps(msg), timeout=10)
        assert resp.status_code == 403 and resp.json()["error"].startswith("SigningCertURL refused"), cert_url
    for n, subscribe_url in enumerate(forged):  # signed with Amazon's own certificate: the URL is still checked
        confirm = sns(
            sns_cert[0],
            "SubscriptionConfirmation",
            MessageId=f"s-{n}",
            Message="c",
            Token="t",
            SubscribeURL=subscribe_url,
        )
        resp = requests.post(url, data=json.dumps(confirm), timeout=10)
        assert resp.status_code == 403 and resp.json()["error"].startswith("SubscribeURL refused"), subscribe_url
    assert evil.connections == [] and evil.paths == []
    assert amazon.paths == [CERT_PATH]  # only the genuine certificate, once, for the confirmations
    assert status(d, "sub1@example.com") == "active"


def test_a_certificate_that_is_not_amazons_is_refused_and_what_went_wrong_is_not_told(
    live: tuple[Live, Host], attacker: tuple[Host, rsa.RSAPrivateKey], ca: trustme.CA, site: Site
) -> None:
    server, amazon = live
    evil, evil_key = attacker
    url, d = f"{server.base}/webhooks/ses", server.digest
    connect: dict[str, tuple[str, int]] = server.app.config["SNS_CONNECT"]
    wrong_key, wrong_name = signing_cert(ca, "evil.example")  # the trusted CA, another name
    amazon.bodies.update({"/other-ca.pem": evil.bodies["/cert.pem"], "/wrong-name.pem": wrong_name})
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    cases: list[tuple[str, rsa.RSAPrivateKey, tuple[str, int]]] = [
        ("/other-ca.pem", evil_key, ("127.0.0.1", amazon.port)),  # chained to a CA nobody trusts
        ("/wrong-name.pem", wrong_key, ("127.0.0.1", amazon.port)),  # a trusted CA's, not issued to SNS
        ("/missing.pem", evil_key, ("127.0.0.1", amazon.port)),  # 404
        ("/cert.pem", evil_key, ("127.0.0.2", evil.port)),  # SNS's name answered by the attacker (DNS)
        ("/closed.pem", evil_key, ("127.0.0.1", closed_port)),  # nothing listens: "Connection refused"
        ("/plain.pem", evil_key, ("127.0.0.1", int(site.base.rsplit(":", 1)[1]))),  # plain HTTP: wrong version
    ]
    answers = set()
    for n, (path, key, where) in enumerate(cases):
        connect[SNS] = where
        msg = sns(
            key, MessageId=f"x-{n}", Message=ses_bounce("sub2@example.com"), SigningCertURL=f"https://{SNS}{path}"
        )
        resp = requests.post(url, data=json.dumps(msg), timeout=10)
        assert resp.status_code == 403, path
        answers.add(resp.text)
    assert len(answers) == 1, "every failure gets the same answer"
    (answer,) = answers
    assert "Amazon" in answer and not any(w in answer for w in ("onnection", "VERSION", "certificate verify", "404"))
    assert evil.connections and evil.paths == []  # the TLS handshake failed: nothing was asked of it
    assert status(d, "sub2@example.com") == "active"


def test_postmark_guesses_are_limited_and_bodies_that_break_the_parser_get_400(live: tuple[Live, Host]) -> None:
    server, _ = live
    server.app.config["WEBHOOK_FAILURE_LIMIT"] = "5 per minute"
    url, now = f"{server.base}/webhooks/postmark", int(time.time())
    nested = b"[" * 30000 + b"]" * 30000
    assert requests.post(url, data=nested, auth=("pm", "pm-secret"), timeout=10).status_code == 400
    weird = {"RecordType": "Bounce", "Type": ["HardBounce"], "ID": {"a": 1}, "Email": 5}
    assert requests.post(url, json=weird, auth=("pm", "pm-secret"), timeout=10).status_code == 400
    mailgun_url = f"{server.base}/webhooks/mailgun"
    assert requests.post(mailgun_url, data=nested, timeout=10).status_code == 400
    huge = mailgun("t-huge", 10**300, {"event": "failed"})
    assert requests.post(mailgun_url, json=huge, timeout=10).status_code == 400
    odd = mailgun("t-odd", now, {"event": "failed", "envelope": "not an object", "message": []})
    assert requests.post(mailgun_url, json=odd, timeout=10).status_code == 400

    codes = [requests.post(url, json={}, auth=("pm", f"guess {n}"), timeout=10).status_code for n in range(8)]
    assert codes == [403] * 5 + [429] * 3
