"""Delivery on the real PostgreSQL server (127.0.0.1:5432): migrations, a shared send (a crash mid-send:
test_deliver_crash.py, on both databases).

Each test gets a fresh database, dropped afterwards; skipped with the reason when no server answers.
"""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select

from digest.bounces.policy import BounceEvent, Policy
from digest.db import tables as t
from digest.db.deliveries import Outbox, Outcome
from digest.db.migrate import state
from digest.delivery.outbox import SendOptions, deliver
from digest.models import DeliveryStatus
from subscribers.clock import now

from .support.sending import DIGEST, digest_env, prepared
from .support.smtp import FaultSink, smtp_server

pytestmark = pytest.mark.postgres


def rows_read(plan: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(table, rows) for every scan of a table in an EXPLAIN (ANALYZE, FORMAT JSON) plan, removed rows
    included: what the server read, not what it kept."""
    if "Relation Name" in plan:
        yield plan["Relation Name"], int(plan["Actual Rows"]) + int(plan.get("Rows Removed by Filter", 0))
    for child in plan.get("Plans", []):
        yield from rows_read(child)


def test_a_claim_reads_about_the_rows_it_takes(pg_url: str, tmp_path: Path) -> None:
    """The claim walks the outbox's index in order and stops at its limit, and looks its subscribers up by
    key. Given IN (…) of the statuses PostgreSQL read and sorted every unfinished row on each claim, and
    joined the subscribers whole."""
    d = prepared(pg_url, tmp_path, None, 5000)  # enough rows that the planner prefers the indexes
    issue = d.current_issue()
    outbox = d.db.deliveries.outbox(issue.id, "me", timedelta(minutes=5))
    assert outbox.enqueue() == 5000
    conn = outbox.connect()
    outbox.claim(conn, 500)  # the first claim's rows are behind the next one's in the index
    ran: list[tuple[str, Any]] = []
    event.listen(d.db.engine, "before_cursor_execute", lambda _c, _cur, sql, params, _x, _m: ran.append((sql, params)))
    taken = outbox.claim(conn, 10)
    assert len(taken) == 10
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    read: Counter[str] = Counter()
    for sql, params in ran:
        cursor.execute("BEGIN")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        row = cursor.fetchone()
        cursor.execute("ROLLBACK")
        assert row is not None
        (explained,) = row[0]  # psycopg reads the JSON: [{"Plan": {…}}]
        for table, rows in rows_read(explained["Plan"]):
            read[table] += rows
    assert read["deliveries"] <= 40, read  # 10 taken, looked up again by key: not the 4,500 left
    assert read["subscribers"] <= 20, read  # their 10 subscribers: not the 5,000
    outbox.disconnect(conn)
    d.close()


def test_outcomes_are_logged_as_given_and_folded_into_the_outbox(pg_url: str, tmp_path: Path) -> None:
    """A worker's outcome is appended to the outcome log by a statement prepared once on its connection,
    its values in PostgreSQL's text format (deliveries.Direct); ``fold`` writes the log into the outbox and
    empties it. What is read back is what was recorded, and a value the server refuses raises psycopg's
    own error and leaves the connection usable."""
    d = prepared(pg_url, tmp_path, None, 3)
    outbox = d.db.deliveries.outbox(d.current_issue().id, "me", timedelta(minutes=5))
    assert outbox.enqueue() == 3
    conn = outbox.connect()
    first, second, third = (row_id for row_id, _, _ in outbox.claim(conn, 3))
    before = now()
    sent = Outcome(first, DeliveryStatus.SENT, tried=True, code=250, text="2.0.0 Ok: déjà vu", message_id="<a@b>")
    outbox.record(conn, [sent])
    outbox.record(conn, [Outcome(second, DeliveryStatus.DEFERRED, tried=True, code=451, text="later", retry_in=90.0)])
    with pytest.raises(psycopg.errors.StringDataRightTruncation):  # message_id is VARCHAR(500)
        outbox.record(conn, [Outcome(third, DeliveryStatus.SENT, tried=True, message_id="<" + "x" * 600 + ">")])
    outbox.record(conn, [Outcome(third, DeliveryStatus.SKIPPED, tried=False, text="nothing for them")])
    assert conn.info["outbox.prepared"] == {outbox._record[True].prepared}  # one statement, prepared once
    outbox.disconnect(conn)
    assert outbox.counts() == {"sending": 3}  # logged, not yet folded in
    assert outbox.fold() == 3 and outbox.fold() == 0
    with d.db.begin() as c:
        rows = {r.id: r for r in c.execute(select(t.deliveries)).all()}
        assert c.scalar(select(func.count()).select_from(t.delivery_outcomes)) == 0
    assert (rows[first].status, rows[first].attempts, rows[first].reply_code) == ("sent", 1, 250)
    assert (rows[first].reply_text, rows[first].message_id, rows[first].lease_until) == (
        "2.0.0 Ok: déjà vu",
        "<a@b>",
        None,
    )
    assert before <= rows[first].updated_at <= now() and rows[first].next_attempt_at is None
    assert (rows[second].status, rows[second].attempts, rows[second].reply_code) == ("deferred", 1, 451)
    assert rows[second].next_attempt_at - rows[second].updated_at == timedelta(seconds=90)
    assert (rows[third].status, rows[third].attempts, rows[third].message_id) == ("skipped", 0, None)
    d.close()


def test_a_logged_outcome_is_never_sent_again_after_its_sender_died(pg_url: str, tmp_path: Path) -> None:
    """A send killed between logging outcomes and folding them in leaves rows "sending" whose messages went
    out. A claim after their leases ran out skips them, and the next send folds them in before anything
    else: no second copy."""
    sink = FaultSink()
    with smtp_server(sink) as port:
        d = prepared(pg_url, tmp_path, port, 4)
        issue = d.current_issue()
        dead = d.db.deliveries.outbox(issue.id, "host:1:gone", timedelta(seconds=-1))  # leases already run out
        assert dead.enqueue() == 4
        conn = dead.connect()
        taken = [row_id for row_id, _, _ in dead.claim(conn, 2)]
        for row_id in taken:
            dead.record(conn, [Outcome(row_id, DeliveryStatus.SENT, tried=True, code=250, message_id=f"<{row_id}@x>")])
        dead.disconnect(conn)
        other = d.db.deliveries.outbox(issue.id, "elsewhere", timedelta(minutes=5))
        conn = other.connect()
        free = [row_id for row_id, _, _ in other.claim(conn, 10)]
        assert len(free) == 2 and set(free).isdisjoint(taken)  # not the two whose leases ran out
        other.release(conn, free)
        other.disconnect(conn)
        rep = d.deliver()
    assert (rep.sent, rep.already) == (2, 2)
    assert len(sink.copies()) == 2 and set(sink.copies().values()) == {1}
    with d.db.begin() as c:
        assert set(c.scalars(select(t.deliveries.c.status))) == {"sent"}
        assert c.scalar(select(func.count()).select_from(t.delivery_outcomes)) == 0
    d.close()


def test_a_bounce_finds_a_message_whose_outcome_is_still_in_the_log(pg_url: str, tmp_path: Path) -> None:
    """A send killed before folding its outcomes in leaves them in the log; a hard bounce that names one of
    those messages by its Message-ID is still ours, and marks its reader."""
    d = prepared(pg_url, tmp_path, None, 2)
    outbox = d.db.deliveries.outbox(d.current_issue().id, "host:1:gone", timedelta(minutes=5))
    assert outbox.enqueue() == 2
    conn = outbox.connect()
    (row_id, _, sub), _ = outbox.claim(conn, 2)
    outbox.record(conn, [Outcome(row_id, DeliveryStatus.SENT, tried=True, code=250, message_id="<logged@x>")])
    outbox.disconnect(conn)
    event = BounceEvent("mail", "report-1", "hard", "5.1.1", "no such user", message_ids=("<logged@x>",))
    applied = d.db.feedback.apply(event, Policy())
    assert applied.deliveries == [row_id] and d.subscribers.get(sub.id).status == "bounced"  # type: ignore[union-attr]
    d.close()


def test_a_fold_that_fails_is_said_and_the_send_still_ends_with_every_outcome_in_the_outbox(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The sending process's folds run beside the workers: one that fails (the database refuses it for a
    moment) is said and tried again, and the send's own last fold leaves nothing in the log."""
    fold = Outbox.fold
    failed: list[int] = []

    def once_refused(self: Outbox) -> int:
        if not failed and threading.current_thread().name == "send-folds":
            failed.append(1)  # the fault: a fold refused once (a real server cannot be made to on demand)
            raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
        return fold(self)

    monkeypatch.setattr(Outbox, "fold", once_refused)
    monkeypatch.setattr("digest.delivery.recorder.FOLD_EVERY", 0.01)
    sink = FaultSink()
    with smtp_server(sink) as port:
        d = prepared(pg_url, tmp_path, port, 30)
        issue = d.current_issue()
        rep = deliver(
            issue, d.db, lambda: d.transport(issue), d.issue_messages(issue).for_subscriber, SendOptions(concurrency=2)
        )
    assert failed == [1]
    assert rep.sent == 30 and set(sink.copies().values()) == {1}
    assert "could not be written into the outbox yet (canceling statement" in caplog.text
    with d.db.begin() as c:
        assert set(c.scalars(select(t.deliveries.c.status))) == {"sent"}
        assert c.scalar(select(func.count()).select_from(t.delivery_outcomes)) == 0
    d.close()


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
