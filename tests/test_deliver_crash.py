"""kill -9 in the middle of `digest send`, then send again: nobody skipped, duplicates only in flight.

The sink accepts N messages, then receives the next ones without answering (a gate). Once every
connection of the send has a message waiting for its reply, the process is killed with SIGKILL.
Those held messages are the window: the server may have taken them, the outbox has no 250 for them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import select

from digest.db import tables as t

from .smtp_faults import FaultSink, prepared, serve

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 2


def wait_for(predicate: object, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.01):
            if predicate() or proc.poll() is not None:  # type: ignore[operator]
                done.set()

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    watcher.join(timeout)
    done.set()


def crash_and_resume(db_url: str, tmp: Path) -> None:
    sink = FaultSink(hold_after=15)
    with serve(sink) as port:
        d = prepared(db_url, tmp, port, 60)
        env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
               "DIGEST_DATABASE_URL": db_url, "DIGEST_SECRET_KEY": "test-secret", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "digest", "-q", "send", "--concurrency", str(CONNECTIONS)],
                                cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: len(sink.held) >= CONNECTIONS, proc)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        in_flight = {r for r, _ in sink.held}
        assert len(in_flight) == CONNECTIONS and len(sink.accepted) == 15
        with d.db.begin() as conn:
            leased = set(conn.scalars(select(t.subscribers.c.email).join(
                t.deliveries, t.deliveries.c.subscriber_id == t.subscribers.c.id).where(
                t.deliveries.c.status == "sending")))
        assert in_flight <= leased
        sink.gate.set()  # the worst case: the server kept the messages whose 250 never reached the sender
        report = d.send()
    copies = sink.copies()
    emails = {f"sub{i}@example.com" for i in range(60)}
    assert set(copies) == emails, "nobody is skipped"
    assert {e for e, n in copies.items() if n > 1} <= in_flight, "second copies only of messages in flight"
    assert max(copies.values()) <= 2
    assert report.sent == 60 - 15
    with d.db.begin() as conn:
        assert set(conn.scalars(select(t.deliveries.c.status))) == {"sent"}
    d.close()


def test_sigkill_mid_send_then_resume_on_sqlite(tmp_path: Path) -> None:
    crash_and_resume(f"sqlite:///{tmp_path}/digest.db", tmp_path)
