"""Mail that must not be lost: sign-up mail waits in the database until a server takes it, across a
restart; a stopped *Send now* leaves its issue for the next sender, who finishes it with one copy each."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import time_machine
from sqlalchemy import select

from digest.config import Settings, SMTPConfig
from digest.db import tables as t
from digest.delivery.notices import drain
from digest.facade import Digest
from digest.models import IssueStatus
from digest.ops.schedule import Schedule
from digest.ops.sender import BackgroundSend, Sender
from digest.web import start_mail, stop_mail

from .support.data import WHEN, article
from .support.smtp import FaultSink, Sink, free_port, smtp_server
from .support.web import csrf_from, digest_of, make_app, make_settings, serve_process, stop_serve


def _sign_up(settings: Settings, email: str) -> None:
    app = make_app(settings)
    client = app.test_client()
    form = client.get("/subscribe").get_data(as_text=True)
    done = client.post("/subscribe", data={"csrf_token": csrf_from(form), "email": email, "website": ""})
    assert done.status_code == 200
    drain()
    stop_mail(app, 10)
    digest_of(app).close()


def test_a_confirmation_the_server_could_not_take_is_sent_after_a_restart(
    tmp_path: Path, db_url: str, smtp_sink: Sink
) -> None:
    down = SMTPConfig(host="127.0.0.1", port=free_port(), security="none", timeout=5)  # nothing listens there
    settings = replace(
        Settings(database_url=db_url, outbox_dir=tmp_path / "outbox", secret_key="k", base_url="https://d.example"),
        sender="IP Digest <digest@example.org>",
        smtp=down,
    )
    _sign_up(settings, "reader@example.org")
    d = Digest(settings)
    with d.db.begin() as conn:
        row = conn.execute(select(t.notices)).one()
    assert (row.email, row.attempts, row.kind) == ("reader@example.org", 1, "confirm")
    assert row.next_attempt_at > datetime.now(UTC) and "Connection refused" in row.last_error
    assert d.db.notices.claim() is None and smtp_sink.messages == []  # not due yet

    up = replace(settings, smtp=SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5))
    app = make_app(up)  # the restarted server, once the wait is over
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        start_mail(app)
        drain()
    stop_mail(app, 10)
    ((_, rcpts, mail),) = smtp_sink.messages
    assert rcpts == ["reader@example.org"] and "Confirm" in mail["Subject"]
    assert d.db.notices.waiting() == 0
    digest_of(app).close()
    d.close()


def test_a_stopped_send_now_is_finished_by_the_next_sender_with_one_copy_each(tmp_path: Path, db_url: str) -> None:
    sink = FaultSink(hold_after=2)
    with smtp_server(sink) as port:
        settings = Settings(
            database_url=db_url,
            outbox_dir=tmp_path / "outbox",
            secret_key="k",
            base_url="https://d.example",
            sender="IP Digest <digest@example.org>",
            smtp=SMTPConfig(host="127.0.0.1", port=port, security="none", timeout=10),
        )
        d = Digest(settings)
        assert d.db.articles.add(article(1, "patents", "Patent ruling number 1", WHEN - timedelta(days=1)))
        issue = d.build(WHEN)
        readers = [f"r{n}@example.org" for n in range(24)]
        for email in readers:
            d.subscribers.add(email)
        sends = BackgroundSend(lambda: Sender(d, Schedule.from_config(settings.schedule)))
        sends.start(issue.week)
        while not sink.held:  # the third message is on the wire, its answer held back
            threading.Event().wait(0.01)
        stopping = threading.Thread(target=sends.stop, args=(30,))
        stopping.start()
        sink.gate.set()  # the server answers: the message in flight is finished and recorded
        stopping.join(30)
        assert not stopping.is_alive()
        status = sends.status()
        assert status is not None and status.finished
        left = d.db.issues.get(issue.id)
        assert left is not None and left.status == IssueStatus.SENDING
        assert 3 <= sum(sink.copies().values()) < len(readers)
        outcomes = Sender(d, Schedule.from_config(settings.schedule)).send()
        assert any(o.report is not None for o in outcomes)
        done = d.db.issues.get(issue.id)
        assert done is not None and done.status == IssueStatus.SENT
        assert sink.copies() == dict.fromkeys(readers, 1)
        d.close()


def test_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'digest.db'}",
        "DIGEST_SECRET_KEY": "k",
        "PATH": "/usr/bin:/bin",
    }
    proc = serve_process(port, tmp_path, env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("serve: http://")
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        stop_serve(proc)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_notice_the_busy_database_held_back_is_sent_once_it_is_free(tmp_path: Path) -> None:
    """The database refuses the sender thread's read once (busy with another writer, a fault a real SQLite
    gives only under a race): the thread tries again a moment later instead of leaving the notice for the
    next sign-up or a restart."""
    from sqlalchemy.exc import OperationalError

    from digest.db.notices import Notices, Waiting
    from digest.delivery.notices import NoticeOutbox
    from digest.delivery.transport import SendResult
    from subscribers.service import Notice

    d = Digest(make_settings(tmp_path))
    sent: list[str] = []

    class Recorder:
        def deliver(self, notice: Notice) -> SendResult:
            sent.append(notice.email)
            return SendResult(True, 250, "ok")

        def close(self) -> None:
            pass

    class BusyOnce(Notices):
        refused = 0

        def claim(self) -> Waiting | None:
            if not self.refused:
                self.refused += 1
                raise OperationalError("UPDATE notices …", {}, Exception("database is locked"))
            return super().claim()

    store = BusyOnce(d.db.engine)
    store.add("confirm", "ann@example.org", "Ann", "https://digest.example/confirm/x")
    queue = NoticeOutbox(store, Recorder())
    queue.start()
    deadline = time.monotonic() + 10  # the thread tries again ERROR_WAIT (1 s) after the refusal
    while store.waiting() and time.monotonic() < deadline:
        queue.join(1)
        time.sleep(0.05)
    assert store.refused == 1 and sent == ["ann@example.org"] and store.waiting() == 0
    queue.stop()
    d.close()
