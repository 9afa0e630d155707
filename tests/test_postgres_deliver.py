"""Delivery on the real PostgreSQL server (127.0.0.1:5432): migrations, a shared send, a crash.

Each test gets a fresh database, dropped afterwards; skipped with the reason when no server answers.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digest.db import tables as t
from digest.db.migrate import state

from .smtp_faults import FaultSink, prepared, serve
from .test_deliver_crash import ROOT, crash_and_resume

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'ip-digest[postgres]')")


def _admin() -> tuple[object, str]:
    errors = []
    for user in ("postgres", "root", os.environ.get("USER", "")):
        if not user:
            continue
        try:
            return psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user=user, autocommit=True,
                                   connect_timeout=3), user
        except psycopg.OperationalError as exc:
            errors.append(f"{user}: {str(exc).strip()}")
    pytest.skip(f"no PostgreSQL server reachable at 127.0.0.1:5432 (database test): {'; '.join(errors)}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin, user = _admin()
    name = f"digest_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


def test_migrations_and_a_send_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    sink = FaultSink(refuse={"sub3@example.com"}, tempfail={"sub4@example.com": 1})
    with serve(sink) as port:
        d = prepared(pg_url, tmp_path, port, 20)
        rep = d.deliver(options=d.send_options(concurrency=3))
    assert (rep.sent, rep.failed) == (19, 1)
    assert state(d.db.engine).at_head
    with d.db.begin() as conn:
        statuses = Counter(conn.scalars(select(t.deliveries.c.status)))
    assert statuses == {"sent": 19, "failed": 1}
    assert d.subscribers.by_email("sub3@example.com").status == "bounced"  # type: ignore[union-attr]
    d.close()


def test_two_processes_share_one_send_and_no_row_is_sent_twice(pg_url: str, tmp_path: Path) -> None:
    # Every DATA waits until four wait at once: both processes (two connections each) are then
    # sending, whichever started first.
    sink = FaultSink(hold_until=4)
    with serve(sink) as port:
        d = prepared(pg_url, tmp_path, port, 300)
        env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
               "DIGEST_DATABASE_URL": pg_url, "DIGEST_SECRET_KEY": "test-secret", "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "digest", "-q", "send", "--join", "--concurrency", "2"]
        procs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    copies = sink.copies()
    assert len(copies) == 300 and set(copies.values()) == {1}
    with d.db.begin() as conn:
        owners = conn.execute(select(t.deliveries.c.lease_owner, func.count()).group_by(t.deliveries.c.lease_owner))
        by_owner = dict(owners.all())
        assert set(conn.scalars(select(t.deliveries.c.status))) == {"sent"}
    assert len(by_owner) == 2 and all(n > 0 for n in by_owner.values())
    d.close()


def test_sigkill_mid_send_then_resume_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    crash_and_resume(pg_url, tmp_path)
