"""Bounce mail for the tests: the fixtures of tests/data/bounces turned into the reports a real send gets
back (its recipient, VERP address and Message-ID put in), and Maildir and mbox folders to drop them in."""

from __future__ import annotations

import contextlib
import mailbox
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from digest.db.deliveries import Outcome
from digest.facade import Digest
from digest.models import DeliveryStatus

from .data import ROOT, make_issue
from .sending import prepared
from .smtp import Sink, sink_server

FIXTURES = ROOT / "tests" / "data" / "bounces"
RECIPIENT, VERP, MESSAGE_ID = "ann@example.com", "bounces+1-2-abcdefghij@example.org", "<f00d1e55c0ffee@example.org>"


def bounce(fixture: str, recipient: str, verp: str | None, message_id: str | None, own_id: str = "") -> bytes:
    """The fixture about ``recipient``: sent to ``verp`` (None: the plain bounce address, no token), returning
    ``message_id`` (None: a Message-ID that is not ours); ``own_id`` gives the report a Message-ID of its own."""
    data = (FIXTURES / fixture).read_bytes()
    data = data.replace(RECIPIENT.encode(), recipient.encode())
    data = data.replace(VERP.encode(), (verp or "bounces@example.org").encode())
    data = data.replace(MESSAGE_ID.encode(), (message_id or "<not-ours@elsewhere.example>").encode())
    if own_id:
        head, _, body = data.partition(b"\n\n")
        lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"message-id:")]
        data = b"\n".join([*lines, b"Message-ID: " + own_id.encode()]) + b"\n\n" + body
    return data


def maildir(root: Path, messages: list[bytes]) -> Path:
    """A Maildir at ``root`` holding ``messages`` in new/, as a local MTA delivers them."""
    box = mailbox.Maildir(root, create=True)
    for data in messages:
        box.add(mailbox.MaildirMessage(data))
    box.close()
    return root


def mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path, create=True)
    for data in messages:
        box.add(mailbox.mboxMessage(data))
    box.close()
    return path


def send_rows(d: Digest, week: str) -> int:
    """Issue ``week`` recorded as sent to every mailable subscriber (the outbox's own statements)."""
    issue = make_issue(d.db, week, "sending")
    outbox = d.db.deliveries.outbox(issue.id, "test:1:a", timedelta(minutes=5))
    outbox.enqueue()
    conn = outbox.connect()
    rows = outbox.claim(conn, 100)
    outbox.record(
        conn,
        [Outcome(row_id, DeliveryStatus.SENT, True, 250, message_id=f"<{week}.{sub.id}@x>") for row_id, _, sub in rows],
    )
    conn.close()
    outbox.fold()  # on PostgreSQL the outcomes were logged: written into the outbox as a send's end does
    return issue.id


def dsn(
    recipients: list[str],
    status: str,
    diagnostic: str,
    to: str = "bounces@example.org",
    message_id: str = "<not-ours@elsewhere.example>",
    own_id: str = "<report-1@mx.example.net>",
) -> bytes:
    """An RFC 3464 report, written here, about ``recipients`` (one block each), sent to ``to`` and returning
    a message whose Message-ID is ``message_id``."""
    blocks = "".join(
        f"\nFinal-Recipient: rfc822; {r}\nAction: failed\nStatus: {status}\nDiagnostic-Code: smtp; {diagnostic}\n"
        for r in recipients
    )
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {own_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0"

--b0
Content-Type: text/plain

Your message could not be delivered to one or more recipients.

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
{blocks}
--b0
Content-Type: text/rfc822-headers

From: IP Digest <digest@example.org>
Subject: This week in IP
Message-ID: {message_id}

--b0--
""".encode()


def arf(recipient: str, to: str = "bounces@example.org", message_id: str = "<not-ours@elsewhere.example>") -> bytes:
    """An RFC 5965 abuse report, written here, about ``recipient``."""
    return f"""From: Feedback Loop <fbl@isp.example.net>
To: {to}
Subject: Abuse report
Message-ID: <arf-{recipient}@isp.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b1"

--b1
Content-Type: text/plain

This is an abuse report.

--b1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: {recipient}

--b1
Content-Type: text/rfc822-headers

From: IP Digest <digest@example.org>
To: {recipient}
Message-ID: {message_id}

--b1--
""".encode()


@contextlib.contextmanager
def sent_issue(db_url: str, tmp: Path, subscribers: int) -> Iterator[tuple[Digest, Sink]]:
    """An issue sent through aiosmtpd to sub0…sub<n-1>@example.com with VERP envelope senders."""
    with sink_server() as sink:
        d = prepared(db_url, tmp, sink.port, subscribers)
        d.settings = replace(d.settings, bounce_address="bounces@example.org")
        assert d.deliver().sent == subscribers
        yield d, sink
        d.close()
