"""End to end over real sockets: waitress on loopback, the aiosmtpd sink, an issue sent and left in one click."""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import requests

from digest.config import Settings, SMTPConfig
from digest.delivery.notices import drain
from digest.delivery.transport import SMTPTransport

from .support.data import make_issue
from .support.smtp import Sink
from .support.web import csrf_from, live_server, serve_process, stop_serve


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_subscribe_confirm_receive_an_issue_and_leave_in_one_click(tmp_path: Path, smtp_sink: Sink) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp) as live, requests.Session() as browser:
        form = browser.get(f"{live.base}/subscribe", timeout=5)
        assert form.status_code == 200 and form.headers["Server"] == "ip-digest-test"
        sent = browser.post(
            f"{live.base}/subscribe",
            timeout=5,
            data={
                "csrf_token": csrf_from(form.text),
                "email": "Reader@Example.org",
                "name": "Rea Der",
                "topics": ["patents"],
                "website": "",
            },
        )
        assert sent.status_code == 200 and "Check your inbox" in sent.text
        drain()  # the confirmation goes out from the app's mail thread

        ((_, rcpts, confirmation),) = smtp_sink.messages
        assert rcpts == ["reader@example.org"] and "Confirm your subscription" in confirmation["Subject"]
        link = re.search(rf"{re.escape(live.base)}/confirm/\S+", body_text(confirmation))
        assert link, "the confirmation mail carries a link to this server"
        page = browser.get(link.group(0), timeout=5)
        done = browser.post(link.group(0), data={"csrf_token": csrf_from(page.text)}, timeout=5)
        assert "You are subscribed" in done.text
        sub = live.digest.subscribers.by_email("reader@example.org")
        assert sub is not None and sub.status == "active" and sub.consent_ip == "127.0.0.1"

        issue = make_issue(live.digest.db, status="draft")
        report = live.digest.deliver(issue, SMTPTransport(smtp))
        assert report.sent == 1
        _, _, letter = smtp_sink.messages[-1]
        text = body_text(letter)
        assert "wearable sensor patent" in text and "Milan court" not in text, "only the chosen topic"
        web = re.search(rf"{re.escape(live.base)}/issues/\d+", text)
        assert web and "Milan court blocks streaming sites" in requests.get(web.group(0), timeout=5).text
        prefs = re.search(rf"{re.escape(live.base)}/preferences/\S+", text)
        assert prefs and 'value="patents" checked' in requests.get(prefs.group(0), timeout=5).text

        # What Gmail or Yahoo do when the reader presses their own "Unsubscribe": a cookieless POST.
        header = str(letter["List-Unsubscribe"])
        one_click = re.search(r"<(https?://[^>]+)>", header)
        assert one_click and letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        resp = requests.post(
            one_click.group(1),
            data="List-Unsubscribe=One-Click",
            timeout=5,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status_code == 200
        sub = live.digest.subscribers.by_email("reader@example.org")
        assert sub is not None and sub.status == "unsubscribed"
        assert requests.get(f"{live.base}/unsubscribe/forged", timeout=5).status_code == 400


def test_serve_on_a_busy_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DIGEST_"))}
        env.update(DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}", DIGEST_SECRET_KEY="k" * 32)
        done = subprocess.run(
            [sys.executable, "-m", "digest", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().count("\n") == 0 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_two_processes_shares_the_port_and_a_sigterm_stops_them_all(tmp_path: Path) -> None:
    """`digest serve --processes 2`: two server processes share the port, every sign-up is stored once and
    answered 202, and SIGTERM to the first process ends both and the command with status 0."""
    import os
    import socket
    import time

    from sqlalchemy import create_engine, text

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DIGEST_"))}
    env.update(DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}", DIGEST_SECRET_KEY="k" * 32)
    proc = serve_process(port, tmp_path, env, "--processes", "2")
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "digest serve did not answer"
                time.sleep(0.1)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 2
        answers = [
            requests.post(f"{base}/api/subscribe", json={"email": f"r{i}@example.org"}, timeout=10).status_code
            for i in range(8)
        ]
        assert answers == [202] * 8
        stop_serve(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    with create_engine(env["DIGEST_DATABASE_URL"]).connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM subscribers WHERE email LIKE 'r%@example.org'")).scalar()
    assert stored == 8


def test_notices_in_a_row_share_one_connection_closed_when_the_queue_is_empty(settings: Settings) -> None:
    from digest.delivery.notices import NoticeOutbox, Notifier
    from digest.facade import Digest
    from digest.issue.message import Letterhead, NoticeMessages
    from subscribers.service import Notice

    from .support.smtp import FaultSink, smtp_server

    sink = FaultSink()
    with smtp_server(sink) as port:
        s = replace(settings, smtp=SMTPConfig(host="127.0.0.1", port=port, security="none"))
        d = Digest(s)
        notifier = Notifier(NoticeMessages(d.renderer.env, Letterhead.of(s), s.title), s)
        for n in range(3):
            assert notifier(Notice("confirm", f"r{n}@example.org", "", "https://digest.example/confirm/x"))
        assert sink.sessions == 1 and len(sink.accepted) == 3
        notifier.close()
        queue = NoticeOutbox(d.db.notices, notifier)
        queue(Notice("confirm", "r9@example.org", "", "https://digest.example/confirm/y"))
        queue.join()
        assert d.db.notices.waiting() == 0
        assert sink.sessions == 2 and len(sink.accepted) == 4
        assert notifier._transport is None  # closed once the queue was empty
        d.close()
