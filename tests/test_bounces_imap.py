"""The whole loop over real servers: an issue sent through aiosmtpd to ten subscribers, their bounces and a
complaint appended to Dovecot over IMAP, `digest bounces` reading them over TLS, and the list, the
deliveries and `digest status` showing exactly what happened."""

from __future__ import annotations

import imaplib
import os
import ssl
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from digest.bounces.mailbox import open_box
from digest.config import BouncesConfig
from digest.db import Database
from digest.db import tables as t
from digest.errors import ConfigError

from .support.bounces import bounce
from .support.dovecot import PASSWORD, USER, Dovecot, dovecot
from .support.sending import DIGEST, digest_env, prepared
from .support.smtp import sink_server

pytestmark = pytest.mark.slow  # Dovecot started per test: seconds each


def imap(dc: Dovecot) -> imaplib.IMAP4_SSL:
    box = imaplib.IMAP4_SSL("127.0.0.1", dc.imaps_port, ssl_context=ssl.create_default_context(cafile=str(dc.ca_file)))
    box.login(USER, PASSWORD)
    return box


def count(box: imaplib.IMAP4_SSL, folder: str) -> int:
    box.select(folder)
    _, found = box.search(None, "UNDELETED")
    return len((found[0] or b"").split())


def test_bounces_over_imap_clean_the_list_and_show_in_status(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'digest.db'}"
    prepared(db_url, tmp_path, None, 10).close()
    with dovecot() as dc, sink_server() as sink:
        toml = tmp_path / "digest.toml"
        toml.write_text(f"""sources = []

[newsletter]
sender = "IP Digest <digest@example.org>"
base_url = "https://digest.example.org"
bounce_address = "bounces@example.org"

[bounces]
mailbox = "imaps://bounces%40example.org@127.0.0.1:{dc.imaps_port}/INBOX"
folder = "Processed"
""")
        env = digest_env(
            db_url,
            sink.port,
            DIGEST_CONFIG=str(toml),
            DIGEST_SECRET_KEY="test-secret",
            BOUNCE_PASSWORD=PASSWORD,
            SSL_CERT_FILE=str(dc.ca_file),
        )
        run = subprocess.run([*DIGEST, "send"], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        got = {rcpts[0]: (mail_from, str(msg["Message-ID"])) for mail_from, rcpts, msg in sink.messages}
        assert len(got) == 10 and all(v[0].startswith("bounces+") for v in got.values())

        def about(i: int, fixture: str, verp: bool = True, message_id: bool = True) -> bytes:
            email = f"sub{i}@example.com"
            return bounce(fixture, email, got[email][0] if verp else None, got[email][1] if message_id else None)

        hard = about(0, "01-postfix-dsn-user-unknown.eml")
        reports = [
            hard,
            hard,  # the same report twice
            about(1, "14-office365-ndr-recipient-not-found.eml", verp=False),  # by Message-ID
            about(2, "18-gmail-dsn-delay.eml"),  # soft
            about(3, "21-yahoo-cfl-arf.eml"),  # a complaint, by VERP
            about(4, "30-outlook-automatic-reply.eml"),  # auto-reply
            about(5, "12-qmail-user-unknown.eml", message_id=False),
        ]  # qmail, by VERP
        box = imap(dc)
        for data in reports:
            assert box.append("INBOX", None, None, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))[0] == "OK"

        run = subprocess.run([*DIGEST, "bounces"], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == (
            "bounces: 7 read: 3 hard, 1 soft, 1 complaints, 0 about our sending, 1 ignored, 0 unmatched, "
            "1 already done, 0 set aside; 4 subscribers marked"
        )
        assert count(box, "INBOX") == 0 and count(box, "Processed") == 7

        with Database(db_url).begin() as conn:
            rows = {
                r.email: r
                for r in conn.execute(
                    select(
                        t.subscribers.c.email,
                        t.subscribers.c.status,
                        t.deliveries.c.feedback,
                        t.deliveries.c.feedback_code,
                    ).join(t.deliveries)
                )
            }
        assert {e: (r.status, r.feedback, r.feedback_code) for e, r in rows.items()} == {
            "sub0@example.com": ("bounced", "hard", "5.1.1"),
            "sub1@example.com": ("bounced", "hard", "5.1.10"),
            "sub2@example.com": ("active", "soft", "4.4.1"),
            "sub3@example.com": ("complained", "complaint", "abuse"),
            "sub4@example.com": ("active", None, None),
            "sub5@example.com": ("bounced", "hard", "5.1.1"),
            **{f"sub{i}@example.com": ("active", None, None) for i in range(6, 10)},
        }

        status = subprocess.run([*DIGEST, "status"], env=env, capture_output=True, text=True, timeout=60)
        assert (
            "  2025-W10: 10 sent, 4 bounced (0 refused at send (5xx), 3 hard and 1 soft reported after delivery), "
            "1 complaints, 0 unsubscribes" in status.stdout
        )
        assert "warning: 2025-W10: complaints are 10.00% of its deliveries, over 0.1 %" in status.stdout

        # STARTTLS on the plain port reads the same (now empty) folder; an untrusted certificate stops it
        starttls = {**env, "DIGEST_CONFIG": str(tmp_path / "starttls.toml")}
        Path(starttls["DIGEST_CONFIG"]).write_text(
            toml.read_text().replace(
                f"imaps://bounces%40example.org@127.0.0.1:{dc.imaps_port}",
                f"imap://bounces%40example.org@127.0.0.1:{dc.imap_port}",
            )
        )
        again = subprocess.run([*DIGEST, "bounces"], env=starttls, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and again.stdout.startswith("bounces: 0 read"), again.stderr
        untrusted = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
        refused = subprocess.run([*DIGEST, "bounces"], env=untrusted, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "certificate failed verification" in refused.stderr
        box.logout()
    assert not os.path.exists(dc.home)


def test_a_pop3_mailbox_over_tls_is_read_and_emptied(tmp_path: Path) -> None:
    with dovecot() as dc, sink_server() as sink:
        if dc.pop3s_port is None:
            pytest.skip("Dovecot's POP3 is not installed (apt-get install dovecot-pop3d; .ci/run does it)")
        d = prepared(f"sqlite:///{tmp_path / 'digest.db'}", tmp_path, sink.port, 2)
        d.settings = replace(d.settings, bounce_address="bounces@example.org")
        d.deliver()
        mail_from, mid = next((m[0], str(m[2]["Message-ID"])) for m in sink.messages if m[1] == ["sub1@example.com"])
        box = imap(dc)
        box.append(
            "INBOX",
            None,
            None,
            bounce("09-sendmail-dsn-user-unknown.eml", "sub1@example.com", mail_from, mid).replace(b"\n", b"\r\n"),
        )
        config = BouncesConfig(
            mailbox=f"pop3s://bounces%40example.org@127.0.0.1:{dc.pop3s_port}", password=PASSWORD, processed="delete"
        )
        context = ssl.create_default_context(cafile=str(dc.ca_file))
        rep = d.bounces(open_box(config, context))
        assert (rep.read, rep.hard, rep.marked) == (1, 1, 1)
        assert d.subscribers.by_email("sub1@example.com").status == "bounced"  # type: ignore[union-attr]
        assert count(box, "INBOX") == 0
        with pytest.raises(ConfigError, match="POP3 cannot move"):
            open_box(replace(config, processed="move"), context)
        box.logout()
        d.close()
