"""Test support for delivery: an aiosmtpd sink that misbehaves on purpose, and a small issue to send."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digest.config import Settings, SMTPConfig
from digest.models import Article, NewIssue, Section
from digest.pipeline import Digest


@dataclass
class FaultSink:
    """Answers per recipient: 550 at RCPT for ``refuse``; 451 for the first n DATA of ``tempfail``;
    drops the connection on the first n DATA of ``drop``; 451 always for ``always``; 554 for all with
    ``refuse_all``. With ``hold_after`` = N, DATA after the Nth accepted one is received and kept in
    ``held`` but not answered until ``gate`` is set (a send caught with messages in flight).
    With ``hold_until`` = K, every DATA waits until K of them wait at once."""

    refuse: set[str] = field(default_factory=set)
    tempfail: dict[str, int] = field(default_factory=dict)
    drop: dict[str, int] = field(default_factory=dict)
    always: set[str] = field(default_factory=set)
    refuse_all: bool = False
    hold_after: int | None = None
    hold_until: int | None = None
    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    held: list[tuple[str, bytes]] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    sessions: int = 0
    waiting: int = 0
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            self.tries[rcpt] += 1
            n = self.tries[rcpt]
        if self.refuse_all:
            return "554 5.7.1 relay access denied"
        if rcpt in self.always or n <= self.tempfail.get(rcpt, 0):
            return "451 4.3.0 try again later"
        if n <= self.drop.get(rcpt, 0):
            server.transport.close()
            return "421 4.3.0 closing"
        if self.hold_until is not None and not self.gate.is_set():
            with self.lock:
                self.waiting += 1
                if self.waiting >= self.hold_until:
                    self.gate.set()
            while not self.gate.is_set():
                await asyncio.sleep(0.005)
        with self.lock:
            held = self.hold_after is not None and len(self.accepted) >= self.hold_after and not self.gate.is_set()
            (self.held if held else self.accepted).append((rcpt, envelope.content))
        while held and not self.gate.is_set():
            await asyncio.sleep(0.005)
        return "250 2.0.0 kept"

    def copies(self) -> Counter[str]:
        return Counter(r for r, _ in self.accepted + self.held)


@contextmanager
def serve(sink: Any, **kwargs: Any) -> Iterator[int]:
    from aiosmtpd.controller import Controller

    from .conftest import free_port

    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        sink_gate = getattr(sink, "gate", None)
        if sink_gate is not None:
            sink_gate.set()
        controller.stop()


def sample_issue(week: str = "2025-W10") -> NewIssue:
    end = datetime(2025, 3, 7, 12, tzinfo=UTC)

    def art(i: int, topic: str) -> Article:
        return Article(id=i, guid=f"g{i}", url=f"https://news.example/{i}", canonical_url=f"https://news.example/{i}",
                       title=f"Story {i} about {topic}", source="IP Wire", published=end - timedelta(hours=i),
                       summary=("A court ruled on the matter. " * 12).strip(), topics=(topic,))

    sections = (Section("patents", "Patents", tuple(art(i, "patents") for i in range(6))),
                Section("trademarks", "Trademarks", tuple(art(i, "trademarks") for i in range(6, 10))))
    return NewIssue(week=week, title="IP Protection Weekly", subject="IP Protection Weekly: 10 stories",
                 preheader="Patents and trademarks", start=end - timedelta(days=7), end=end, sections=sections)


def settings(db_url: str, tmp: Path, port: int | None, **smtp: Any) -> Settings:
    cfg = SMTPConfig(host="127.0.0.1" if port else None, port=port or 25, security="none", timeout=10,
                     retry_seconds=0.01, **smtp)
    return Settings(base_url="https://digest.example.org", sender="IP Digest <digest@example.org>",
                    database_url=db_url, secret_key="test-secret", outbox_dir=tmp / "outbox", smtp=cfg)


def prepared(db_url: str, tmp: Path, port: int | None, subscribers: int, **smtp: Any) -> Digest:
    """A Digest with a built issue and ``subscribers`` active addresses sub0@example.com, …"""
    d = Digest(settings(db_url, tmp, port, **smtp))
    d.db.issues.save_draft(sample_issue())
    d.subscribers.add_many([(f"sub{i}@example.com", f"Reader {i}", "") for i in range(subscribers)])
    return d
