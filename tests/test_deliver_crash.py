"""kill -9 in the middle of `digest send`, then send again: nobody skipped, duplicates only in flight.

The sink accepts N messages, then receives the next ones without answering (a gate). Once every
connection of the send has a message waiting for its reply, the process is killed with SIGKILL.
Those held messages are the window: the server may have taken them, the outbox has no 250 for them.
The killed process leaves the issue's lease and its rows' leases behind; the next `digest send` on
this host takes both over at once, without waiting for them to expire.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from digest.db import tables as t

from .support.sending import DIGEST, digest_env, prepared
from .support.smtp import FaultSink, smtp_server

CONNECTIONS = 2
pytestmark = pytest.mark.slow  # each runs `digest send` as a child process and kills it


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


def holding(sink: FaultSink, n: int) -> Callable[[], bool]:
    """True once the sink holds ``n`` messages unanswered."""
    return lambda: len(sink.held) >= n


def send_env(db_url: str, port: int) -> dict[str, str]:
    return digest_env(db_url, port, DIGEST_SECRET_KEY="test-secret")


def start_send(tmp: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*DIGEST, "-q", "send", "--concurrency", str(CONNECTIONS)],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_send_then_resume(db_url: str, tmp_path: Path) -> None:
    sink = FaultSink(hold_after=15)
    with smtp_server(sink) as port:
        d = prepared(db_url, tmp_path, port, 60)
        proc = start_send(tmp_path, send_env(db_url, port))
        wait_for(lambda: len(sink.held) >= CONNECTIONS, proc)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        in_flight = {r for r, _ in sink.held}
        assert len(in_flight) == CONNECTIONS and len(sink.accepted) == 15
        with d.db.begin() as conn:
            leased = set(
                conn.scalars(
                    select(t.subscribers.c.email)
                    .join(t.deliveries, t.deliveries.c.subscriber_id == t.subscribers.c.id)
                    .where(t.deliveries.c.status == "sending")
                )
            )
        assert in_flight <= leased
        sink.gate.set()  # the worst case: the server kept the messages whose 250 never reached the sender
        report = d.deliver()
    copies = sink.copies()
    emails = {f"sub{i}@example.com" for i in range(60)}
    assert set(copies) == emails, "nobody is skipped"
    assert {e for e, n in copies.items() if n > 1} <= in_flight, "second copies only of messages in flight"
    assert max(copies.values()) <= 2
    assert report.sent == 60 - 15
    with d.db.begin() as conn:
        assert set(conn.scalars(select(t.deliveries.c.status))) == {"sent"}
    d.close()


def test_two_kills_then_the_next_send_takes_over_at_once(tmp_path: Path) -> None:
    """Two sends killed mid-way, each leaving the issue's lease held by a dead process; the third
    finishes the list at once (the lease is ten minutes long: waiting for it would time out)."""
    db_url = f"sqlite:///{tmp_path}/digest.db"
    sink = FaultSink(hold_after=10)
    emails = {f"sub{i}@example.com" for i in range(40)}
    in_flight: set[str] = set()
    with smtp_server(sink) as port:
        d = prepared(db_url, tmp_path, port, 40)
        env = send_env(db_url, port)
        for kill, accepted_before_hold in enumerate((10, 20), start=1):
            sink.hold_after = accepted_before_hold
            proc = start_send(tmp_path, env)
            wait_for(holding(sink, CONNECTIONS * kill), proc)
            assert proc.poll() is None, proc.communicate()  # still sending: it took the lease over
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            in_flight |= {r for r, _ in sink.held}
            assert len(sink.accepted) >= accepted_before_hold
            owner, _ = d.db.issues.lease_holder(d.current_issue().id)
            assert owner is not None and f":{proc.pid}:" in owner, "the killed send left the issue's lease held"
        sink.gate.set()
        last = subprocess.run(
            [*DIGEST, "send", "--concurrency", str(CONNECTIONS)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert last.returncode == 0, last.stderr
        assert "being sent by" not in last.stdout + last.stderr
    with d.db.begin() as conn:
        statuses = dict(
            conn.execute(
                select(t.subscribers.c.email, t.deliveries.c.status).join(
                    t.deliveries, t.deliveries.c.subscriber_id == t.subscribers.c.id
                )
            ).all()
        )
    assert statuses == {e: "sent" for e in emails}, "every subscriber has a sent row; none skipped"
    assert d.current_issue().status == "sent"
    copies = sink.copies()
    assert set(copies) == emails and sum(copies.values()) >= len(emails)
    assert {e for e, n in copies.items() if n > 1} <= in_flight, "second copies only of messages in flight"
    d.close()
