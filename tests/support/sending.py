"""Sends and the daemon run for real: settings on a loopback SMTP server, a prepared issue and list, the
daemon serving in a thread, and the environment of a `digest` command run as a child process."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent

from digest.config import ScheduleConfig, Settings, SMTPConfig
from digest.facade import Digest
from digest.ops.daemon import Daemon
from subscribers.model import NewSubscriber

from .data import ROOT, sample_issue

DIGEST = [sys.executable, "-m", "digest"]  # this checkout's `digest`, as a child process


def schedule_settings(tmp: Path, db_url: str, smtp_port: int | None = None, **schedule: Any) -> Settings:
    """Settings for the scheduler's jobs: no sources, SMTP on ``smtp_port`` (else the outbox folder)."""
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_port, security="none", timeout=10) if smtp_port else SMTPConfig()
    return Settings(
        sources=(),
        database_url=db_url,
        smtp=smtp,
        outbox_dir=tmp / "outbox",
        base_url="https://digest.example.org",
        schedule=ScheduleConfig(**schedule),
    )


def delivery_settings(db_url: str, tmp: Path, port: int | None, **smtp: Any) -> Settings:
    """Settings for delivery tests: SMTP on ``port`` (else the outbox folder), retries after 10 ms."""
    cfg = SMTPConfig(
        host="127.0.0.1" if port else None, port=port or 25, security="none", timeout=10, retry_seconds=0.01, **smtp
    )
    return Settings(
        base_url="https://digest.example.org",
        sender="IP Digest <digest@example.org>",
        database_url=db_url,
        secret_key="test-secret",
        outbox_dir=tmp / "outbox",
        smtp=cfg,
    )


def prepared(db_url: str, tmp: Path, port: int | None, subscribers: int, **smtp: Any) -> Digest:
    """A Digest with a built issue and ``subscribers`` active addresses sub0@example.com, …"""
    d = Digest(delivery_settings(db_url, tmp, port, **smtp))
    d.db.issues.save_draft(sample_issue())
    d.subscribers.add_many([NewSubscriber(f"sub{i}@example.com", f"Reader {i}") for i in range(subscribers)])
    return d


def operator_config() -> Path:
    """A digest.toml of the operator's own (no sources), so that a send is never of the bundled samples."""
    path = Path(tempfile.mkdtemp(prefix="digest-config-")) / "digest.toml"
    path.write_text("sources = []\n", encoding="utf-8")
    return path


def digest_env(db_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    """The environment of a `digest` child process on ``db_url``, sending to the loopback SMTP ``smtp_port``."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DIGEST_DATABASE_URL": db_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "DIGEST_CONFIG": str(operator_config()),
        **extra,
    }


class Running:
    """A Daemon serving in a thread, with its job events collected."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.events: list[JobExecutionEvent] = []
        self.cond = threading.Condition()
        daemon.scheduler.add_listener(self._event, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
        self.thread = threading.Thread(target=daemon.serve, kwargs={"install_signals": False}, daemon=True)

    def _event(self, event: JobExecutionEvent) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_for(self, job_id: str, code: int = EVENT_JOB_EXECUTED, timeout: float = 20) -> JobExecutionEvent:
        with self.cond:
            assert self.cond.wait_for(
                lambda: any(e.job_id == job_id and e.code == code for e in self.events), timeout
            ), f"no {job_id} event {code}: {self.events}"
            return next(e for e in self.events if e.job_id == job_id and e.code == code)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.daemon.stop()
        self.thread.join(20)
        assert not self.thread.is_alive()


def until(predicate: Callable[[], bool], timeout: float = 20) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
