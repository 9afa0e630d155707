"""Helpers shared by the web tests: settings on a temporary database, a sent issue, links from mails."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from digest.config import Settings
from digest.db import Database
from digest.models import Article, Issue, IssueStatus, NewIssue, Section
from digest.pipeline import Digest
from digest.web import create_app

BASE = "http://digest.example.org"
WHEN = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def make_settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path}/digest.db", "outbox_dir": tmp_path / "outbox",
        "secret_key": "a test key, not a secret", "base_url": BASE, "sender": "IP Digest <digest@example.org>",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def article(n: int, topic: str, title: str, when: datetime = WHEN) -> Article:
    return Article(id=n, guid=f"g{n}", url=f"https://news.example/{n}", canonical_url=f"https://news.example/{n}",
                   title=title, source="IP Wire", published=when - timedelta(hours=n),
                   summary=f"Summary of story {n} <b>with markup kept as text</b>.", topics=(topic,))


def make_issue(db: Database, week: str = "2026-W48", status: str = "sent") -> Issue:
    """An issue of three articles, two on patents and one on copyright, ending on the Monday of ``week``."""
    year, number = week.split("-W")
    end = datetime.fromisocalendar(int(year), int(number), 1).replace(hour=7, tzinfo=UTC)
    issue = NewIssue(
        week=week, title="IP Protection Weekly", subject=f"IP Protection Weekly {week}: the court rules",
        preheader="3 stories this week", start=end - timedelta(days=7), end=end,
        sections=(
            Section("patents", "Patents", (article(1, "patents", "Court rules on wearable sensor patent", end),
                                           article(2, "patents", "EPO publishes new guidelines", end))),
            Section("copyright", "Copyright", (article(3, "copyright", "Milan court blocks streaming sites", end),)),
        ),
    )
    saved = db.issues.save_draft(issue)
    if status != "draft":
        db.issues.set_status(saved.id, IssueStatus(status))
    found = db.issues.get(saved.id)
    assert found is not None
    return found


def read_eml(path: Path) -> EmailMessage:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def link_in(msg: EmailMessage, purpose: str) -> str:
    """The first ``purpose`` link (confirm, preferences, unsubscribe) in a message's text part."""
    part = msg.get_body(("plain",))
    assert part is not None
    found = re.search(rf"https?://\S+/{purpose}/\S+", part.get_content())
    assert found, f"no {purpose} link in the message"
    return found.group(0)


def outbox_mail(settings: Settings, email: str) -> EmailMessage | None:
    path = settings.outbox_dir / "confirmations" / f"{email}.eml"
    return read_eml(path) if path.exists() else None


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


@dataclass
class Live:
    """The web app under waitress on a loopback port, with its settings and Digest."""

    base: str
    settings: Settings
    app: Flask

    @property
    def digest(self) -> Digest:
        found: Digest = self.app.extensions["digest"].digest
        return found


@contextmanager
def live_server(tmp_path: Path, **changes: object) -> Iterator[Live]:
    """Serve ``create_app`` with waitress in a thread; base_url is the real loopback address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(tmp_path, base_url=base, **changes)
    app = create_app(settings)
    server = create_server(app, sockets=[sock], threads=2, ident="ip-digest-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Live(base, settings, app)
    finally:
        # Close the sockets from inside the server's own loop (closing them from here races its select()).
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(10)
        assert not thread.is_alive(), "waitress did not stop"
        server.task_dispatcher.shutdown()
        app.extensions["digest"].digest.close()
