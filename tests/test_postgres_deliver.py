"""Delivery on the real PostgreSQL server (127.0.0.1:5432): migrations, a shared send (a crash mid-send:
test_deliver_crash.py, on both databases).

Each test gets a fresh database, dropped afterwards; skipped with the reason when no server answers.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digest.db import tables as t
from digest.db.migrate import state

from .support.sending import DIGEST, digest_env, prepared
from .support.smtp import FaultSink, smtp_server

pytestmark = pytest.mark.postgres


def test_migrations_and_a_send_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    sink = FaultSink(refuse={"sub3@example.com"}, tempfail={"sub4@example.com": 1})
    with smtp_server(sink) as port:
        d = prepared(pg_url, tmp_path, port, 20)
        rep = d.deliver(options=d.send_options(concurrency=3))
    assert (rep.sent, rep.failed) == (19, 1)
    assert state(d.db.engine).at_head
    with d.db.begin() as conn:
        statuses = Counter(conn.scalars(select(t.deliveries.c.status)))
    assert statuses == {"sent": 19, "failed": 1}
    assert d.subscribers.by_email("sub3@example.com").status == "bounced"  # type: ignore[union-attr]
    d.close()


@pytest.mark.slow
def test_two_processes_share_one_send_and_no_row_is_sent_twice(pg_url: str, tmp_path: Path) -> None:
    # Every DATA waits until four wait at once: both processes (two connections each) are then
    # sending, whichever started first.
    sink = FaultSink(hold_until=4)
    with smtp_server(sink) as port:
        d = prepared(pg_url, tmp_path, port, 300)
        env = digest_env(pg_url, port, DIGEST_SECRET_KEY="test-secret")
        command = [*DIGEST, "-q", "send", "--join", "--concurrency", "2"]
        procs = [
            subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    copies = sink.copies()
    assert len(copies) == 300 and set(copies.values()) == {1}
    with d.db.begin() as conn:
        owners = conn.execute(select(t.deliveries.c.lease_owner, func.count()).group_by(t.deliveries.c.lease_owner))
        by_owner: dict[str | None, int] = {row[0]: row[1] for row in owners.all()}
        assert set(conn.scalars(select(t.deliveries.c.status))) == {"sent"}
    assert len(by_owner) == 2 and all(n > 0 for n in by_owner.values())
    d.close()
