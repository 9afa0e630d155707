"""Helpers for the scheduler tests: settings, articles, a gated SMTP sink, a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from digest.config import ScheduleConfig, Settings, SMTPConfig
from digest.models import NewArticle
from digest.pipeline import Digest

PG_ADMIN = ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test")


def settings(tmp: Path, db_url: str, smtp_port: int | None = None, **schedule: Any) -> Settings:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_port, security="none", timeout=10) if smtp_port else SMTPConfig()
    return Settings(sources=(), database_url=db_url, smtp=smtp, outbox_dir=tmp / "outbox",
                    base_url="https://digest.example.org", schedule=ScheduleConfig(**schedule))


def add_article(digest: Digest, n: int, published: datetime) -> None:
    digest.db.articles.add(NewArticle(
        guid=f"g{n}", url=f"https://news.example/{n}", canonical_url=f"https://news.example/{n}",
        title=f"Patent ruling number {n}", source="News", published=published,
        summary="A court ruled on a patent.", topics=("patents",)))


def add_subscribers(digest: Digest, count: int) -> list[str]:
    emails = [f"reader{i}@example.org" for i in range(count)]
    for e in emails:
        digest.subscribers.add(e)
    return emails


@dataclass
class GatedSink:
    """An aiosmtpd handler that holds the first message until ``gate`` is set (``arrived`` tells it came)."""

    port: int = 0
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos),
                                  message_from_bytes(envelope.content, policy=policy.default)))  # type: ignore[arg-type]
        return "250 2.0.0 kept"

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for rcpts, _ in self.messages for r in rcpts]


@contextmanager
def gated_sink(open_gate: bool = False) -> Iterator[GatedSink]:
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    sink = GatedSink(port=free_port())
    if open_gate:
        sink.gate.set()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        sink.gate.set()
        controller.stop()


@contextmanager
def fresh_postgres() -> Iterator[str | None]:
    """A new, empty PostgreSQL database for one test (dropped after), or None when unreachable."""
    from sqlalchemy import create_engine, text

    for admin_url in PG_ADMIN:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                name = f"digest_test_{uuid.uuid4().hex[:12]}"
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception:
            engine.dispose()
            continue
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()
        return
    yield None
