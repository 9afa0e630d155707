"""Send now from the editor's pages through the real aiosmtpd sink: the send runs in the background, the
progress page and the JSON status follow it while the sink holds the messages, and show the outcome after."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from digest.config import SMTPConfig
from digest.errors import NothingToSend, UsageError
from digest.web.admin import BackgroundSend, SendStatus

from .support.admin import admin_app, deliveries, login, seed
from .support.smtp import gated_sink
from .support.web import csrf_from, digest_of, make_settings

READERS = ["ann@example.org", "bob@example.org", "cy@example.org"]


def test_send_now_shows_its_progress_then_the_outcome(tmp_path: Path) -> None:
    with gated_sink() as sink:
        smtp = SMTPConfig(host="127.0.0.1", port=sink.port, security="none", timeout=30)
        app = admin_app(make_settings(tmp_path, smtp=smtp))
        d = digest_of(app)
        try:
            seed(d)
            for email in READERS:
                d.subscribers.add(email)
            week = d.draft().week
            editor = app.test_client()
            login(editor)
            assert editor.get("/admin/draft/send/status").get_json() == {"send": None}
            confirm = editor.get("/admin/draft/send").get_data(as_text=True)
            version = re.search(r'name="version" value="([^"]+)"', confirm)
            assert version
            resp = editor.post(
                "/admin/draft/send", data={"csrf_token": csrf_from(confirm), "version": version.group(1)}
            )
            assert resp.status_code == 303 and resp.location == "/admin/draft/send/progress"

            assert sink.arrived.wait(30), "the send never reached the mail server"
            running = editor.get("/admin/draft/send/status").get_json()["send"]
            assert running["week"] == week and running["finished"] is False and running["error"] is None
            page = editor.get("/admin/draft/send/progress").get_data(as_text=True)
            assert '<meta http-equiv="refresh" content="2">' in page and f"Sending issue {week}" in page
            sends: BackgroundSend = app.extensions["digest_sends"]
            with pytest.raises(UsageError, match=f"issue {week} is being sent already"):
                sends.start(week)

            sink.gate.set()
            status = sends.wait(30)
            assert isinstance(status, SendStatus) and status.finished and status.error is None
            assert (status.done, status.total, status.text) == (3, 3, "done: 3 sent, 0 failed, 0 deferred, 0 skipped.")
            assert sorted(sink.recipients()) == READERS and deliveries(d) == 3
            page = editor.get("/admin/draft/send/progress").get_data(as_text=True)
            assert "http-equiv" not in page and f"Issue {week} is sent" in page
            assert '<p id="done"><strong>3</strong> of <strong>3</strong> messages done.</p>' in page
            assert "done: 3 sent" in editor.get("/admin/draft").get_data(as_text=True)
            with pytest.raises(UsageError, match="was sent already"):
                sends.start(week)
            with pytest.raises(NothingToSend, match="there is no issue 1999-W01"):
                sends.start("1999-W01")
        finally:
            d.close()


def test_a_send_that_fails_says_why_on_the_progress_page(tmp_path: Path) -> None:
    app: Flask = admin_app(make_settings(tmp_path))
    d = digest_of(app)
    try:
        seed(d)  # nobody subscribed: the send stops with the reason
        editor = app.test_client()
        login(editor)
        sends: BackgroundSend = app.extensions["digest_sends"]
        sends.start(d.draft().week)
        status = sends.wait(30)
        assert status is not None and status.finished and status.error and "no subscriber to send to" in status.error
        page = editor.get("/admin/draft/send/progress").get_data(as_text=True)
        assert "stopped" in page and "digest subscribers add" in page
    finally:
        d.close()
