"""A hostile bounce mailbox, over IMAP and POP3 (Dovecot on loopback) and as a Maildir: ordinary bounces
mixed with a 300 KB one-line message (past POP3's 2,048-byte line limit, and a body no pattern may take
quadratic time over), NUL bytes (which PostgreSQL's text refuses), a forged report and a message that
cannot be parsed. Every good one is applied, the bad one is set aside with its reason, nothing stops."""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

import digest.bounces.run as run
from digest.bounces.mailbox import MaildirBox, open_box
from digest.bounces.parse import Report
from digest.bounces.parse import parse as real_parse
from digest.config import BouncesConfig
from digest.facade import Digest

from .support.bounces import bounce, dsn, maildir, sent_issue
from .support.dovecot import PASSWORD, USER, dovecot
from .support.smtp import Sink


@pytest.fixture
def sent(db_url: str, tmp_path: Path) -> Iterator[tuple[Digest, Sink]]:
    with sent_issue(db_url, tmp_path, 5) as got:
        yield got


def hostile(sink: Sink) -> list[bytes]:
    def env(i: int) -> tuple[str, str]:
        mail_from, _, msg = next(m for m in sink.messages if m[1] == [f"sub{i}@example.com"])
        return mail_from, str(msg["Message-ID"])

    (v0, m0), (v1, m1), (v2, m2), (v3, m3) = env(0), env(1), env(2), env(3)
    long_line = dsn(["sub1@example.com"], "5.1.1", "550 5.1.1 No such user here", to=v1, message_id=m1, own_id="<l@x>")
    long_line = long_line.replace(b"recipients.\n", b"recipients. " + b"x@" * 150_000 + b"\n")
    nul = dsn(["sub2@example.com"], "5.1.1", "550 5.1.1 unknown\x00user", to=v2, message_id=m2, own_id="<n\x00ul@x>")
    broken = dsn(["sub3@example.com"], "5.1.1", "550 5.1.1 User unknown", to=v3, message_id=m3, own_id="<u@x>")
    broken = broken.replace(b"Subject:", b"X-Test-Unreadable: yes\nSubject:")
    return [
        bounce("01-postfix-dsn-user-unknown.eml", "sub0@example.com", v0, m0),
        long_line,
        nul,
        broken,
        dsn([f"sub{i}@example.com" for i in range(5)], "5.1.1", "550 5.1.1 User unknown", own_id="<forged@x>"),
    ]


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message no parser survives (no real one could be made to crash the parser on demand)."""

    def parse(data: bytes) -> Report:
        if b"X-Test-Unreadable" in data:
            raise ValueError("this message is broken on purpose")
        return real_parse(data)

    monkeypatch.setattr(run, "parse", parse)


def check(d: Digest, rep: run.BounceReport) -> None:
    assert (rep.read, rep.hard, rep.unmatched, rep.aside, rep.marked) == (5, 3, 1, 1, 3)
    who = {i: d.subscribers.by_email(f"sub{i}@example.com").status for i in range(5)}  # type: ignore[union-attr]
    assert who == {0: "bounced", 1: "bounced", 2: "bounced", 3: "active", 4: "active"}


@pytest.mark.usefixtures("unreadable")
def test_a_hostile_maildir(sent: tuple[Digest, Sink], tmp_path: Path) -> None:
    d, sink = sent
    box = maildir(tmp_path / "Maildir", hostile(sink))
    check(d, d.bounces(MaildirBox(box, "Processed")))
    assert not list((box / "new").iterdir()) and len(list((box / ".Processed" / "cur").iterdir())) == 4
    [aside] = list((box / ".Unreadable" / "cur").iterdir())
    assert b"X-Test-Unreadable" in aside.read_bytes()
    [reason] = list((box / ".Unreadable").glob("*.reason"))
    assert "broken on purpose" in reason.read_text()


@pytest.mark.slow
@pytest.mark.usefixtures("unreadable")
@pytest.mark.parametrize("protocol", ["imaps", "pop3s"])
def test_a_hostile_mailbox_over_imap_and_pop3(sent: tuple[Digest, Sink], protocol: str) -> None:
    d, sink = sent
    with dovecot() as dc:
        if protocol == "pop3s" and dc.pop3s_port is None:
            pytest.skip("Dovecot's POP3 is not installed (apt-get install dovecot-pop3d; .ci/run does it)")
        context = ssl.create_default_context(cafile=str(dc.ca_file))
        imap = imaplib.IMAP4_SSL("127.0.0.1", dc.imaps_port, ssl_context=context)
        imap.login(USER, PASSWORD)
        for data in hostile(sink):
            assert imap.append("INBOX", None, None, data.replace(b"\n", b"\r\n"))[0] == "OK"
        port = dc.imaps_port if protocol == "imaps" else dc.pop3s_port
        folder = "/INBOX" if protocol == "imaps" else ""
        config = BouncesConfig(
            mailbox=f"{protocol}://bounces%40example.org@127.0.0.1:{port}{folder}",
            password=PASSWORD,
            processed="move" if protocol == "imaps" else "delete",
        )
        check(d, d.bounces(open_box(config, context)))
        imap.select("INBOX")
        _, left = imap.search(None, "UNDELETED")
        if protocol == "imaps":
            assert not (left[0] or b"").split()
            imap.select("Unreadable")
            _, aside = imap.search(None, "ALL")
            assert len((aside[0] or b"").split()) == 1
        else:  # POP3 cannot move mail: the unreadable one stays on the server
            assert len((left[0] or b"").split()) == 1
        imap.logout()
