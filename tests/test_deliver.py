"""The outbox against a real aiosmtpd server on loopback and a real SQLite database."""

from __future__ import annotations

import gc
import os
import sqlite3
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from digest.db import Database
from digest.db import tables as t
from digest.db.deliveries import Outbox
from digest.db.migrate import state, upgrade_database
from digest.delivery.outbox import SendOptions, deliver
from digest.delivery.run import DeliveryReport, SendRun, _claim_size
from digest.errors import DeliveryError
from digest.models import DeliveryStatus

from .support.db import restore
from .support.sending import prepared
from .support.smtp import FaultSink, smtp_server


def rows(d: object) -> dict[str, dict[str, object]]:
    db = d.db  # type: ignore[attr-defined]
    q = select(t.subscribers.c.email, t.subscribers.c.status.label("who"), t.deliveries).join(
        t.deliveries, t.deliveries.c.subscriber_id == t.subscribers.c.id
    )
    with db.begin() as conn:
        return {r.email: dict(r._mapping) for r in conn.execute(q)}


def test_send_records_one_row_per_subscriber_and_resends_nothing(tmp_path: Path) -> None:
    sink = FaultSink()
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 25)
        rep = d.deliver(options=SendOptions(concurrency=3, batch=4))
        assert (rep.sent, rep.failed, rep.deferred) == (25, 0, 0)
        again = d.deliver(options=SendOptions(concurrency=3))
    assert again.sent == 0 and again.already == 25
    assert sorted(sink.copies().values()) == [1] * 25
    recorded = rows(d)
    for email, row in recorded.items():
        assert row["status"] == "sent" and row["attempts"] == 1 and row["reply_code"] == 250
        assert row["updated_at"] is not None and row["lease_until"] is None
        msg = message_from_bytes(dict(sink.accepted)[email], policy=policy.default)
        assert msg["Message-ID"] == row["message_id"]
        assert msg["To"].addresses[0].addr_spec == email
    assert d.db.issues.of_week("2025-W10").status == "sent"  # type: ignore[union-attr]


def test_claims_shrink_towards_the_end_so_the_connections_finish_together() -> None:
    """Guided self-scheduling: each claim takes a share of the rows left after the last one claimed."""
    run = SendRun(Outbox.__new__(Outbox), DeliveryReport(), SendOptions(concurrency=4, batch=100), lambda s: None, None)
    assert _claim_size(run, None) == 100  # not known yet: a whole batch
    run.last_row = 2000
    sizes = [_claim_size(run, after) for after in (None, 100, 1200, 1900, 1990, 1999, 2000)]
    assert sizes == [100, 100, 100, 13, 2, 1, 1]


def thread_nices() -> set[int]:
    """The nice value of each thread of this process (Linux: /proc/self/task/<tid>/stat, field 19)."""
    return {int(stat.read_text().rpartition(")")[2].split()[16]) for stat in Path("/proc/self/task").glob("*/stat")}


def test_worker_processes_share_one_send(db_url: str, tmp_path: Path) -> None:
    """Two forked processes, two connections each: everyone once, every row recorded, progress relayed."""
    sink = FaultSink()
    pids, progress, niceness = tmp_path / "pids", [], os.nice(0)
    parent_threads: set[int] = set()  # the nice values of this process's threads while the send runs
    with smtp_server(sink) as port:
        d = prepared(db_url, tmp_path, port, 90)
        issue = d.current_issue()

        def seen(report: DeliveryReport) -> None:
            progress.append(report.sent)
            parent_threads.update(thread_nices())

        def transports():  # type: ignore[no-untyped-def]
            with open(pids, "a") as fh:
                fh.write(f"{os.getpid()} {os.nice(0)} {gc.get_freeze_count()}\n")
            return d.transport(issue)

        rep = deliver(
            issue,
            d.db,
            transports,
            d.issue_messages(issue).for_subscriber,
            SendOptions(concurrency=4, processes=2),
            progress=seen,
        )
    assert (rep.sent, rep.failed, rep.deferred) == (90, 0, 0)
    assert sorted(sink.copies().values()) == [1] * 90
    assert {r["status"] for r in rows(d).values()} == {"sent"}
    workers = [line.split() for line in pids.read_text().splitlines()]
    assert len(workers) == 4 and len({pid for pid, _, _ in workers}) == 2
    assert str(os.getpid()) not in {pid for pid, _, _ in workers}
    assert {int(nice) for _, nice, _ in workers} == {min(19, niceness + SendOptions().niceness)}  # batch work yields
    assert all(int(frozen) > 0 for _, _, frozen in workers)  # what the children inherit, their collector skips
    assert gc.get_freeze_count() == 0  # and the parent sweeps it again once they are gone
    assert os.nice(0) == niceness  # the parent keeps its own priority
    recorder = {min(19, niceness + SendOptions().niceness)}
    assert parent_threads == {niceness} | recorder  # but its recorder (SQLite's writer, PostgreSQL's folds) yields
    assert progress and progress[-1] == 90
    d.close()


def test_the_command_sends_in_one_process_per_core_and_the_library_in_threads(tmp_path: Path) -> None:
    """`digest send` asks for workers.available() processes; the daemon and the web (the library's
    default) never fork beside their other threads."""
    from digest.delivery.workers import available

    d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, None, 0)
    assert available() == len(os.sched_getaffinity(0))
    assert d.send_options().processes == 1
    assert d.send_options(processes=available()).processes == available()
    d.close()


def test_faults_end_with_one_accepted_message_or_a_recorded_failure(tmp_path: Path) -> None:
    sink = FaultSink(
        refuse={"sub5@example.com", "sub17@example.com"},
        tempfail={"sub2@example.com": 1, "sub8@example.com": 2, "sub20@example.com": 1},
        drop={"sub3@example.com": 1, "sub11@example.com": 1, "sub30@example.com": 2},
        always={"sub25@example.com"},
    )
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 40, max_attempts=4, max_per_connection=7)
        rep = d.deliver(options=d.send_options(concurrency=3))
    recorded = rows(d)
    copies = sink.copies()
    failed = {e for e, r in recorded.items() if r["status"] == "failed"}
    assert failed == {"sub5@example.com", "sub17@example.com", "sub25@example.com"}
    assert (rep.sent, rep.failed, rep.deferred) == (37, 3, 0)
    for email in recorded:
        assert copies[email] == (0 if email in failed else 1), email
    assert recorded["sub5@example.com"]["who"] == "bounced" and recorded["sub5@example.com"]["reply_code"] == 550
    gave_up = recorded["sub25@example.com"]
    assert gave_up["who"] == "active" and gave_up["attempts"] == 4
    assert "gave up after 4 attempts" in str(gave_up["reply_text"]) and gave_up["reply_code"] == 451
    assert recorded["sub8@example.com"]["attempts"] == 3 and recorded["sub30@example.com"]["attempts"] == 3
    assert sink.sessions >= 40 // 7  # connections were reopened after drops and every 7 messages


def test_a_deferral_committed_late_is_still_retried_in_the_same_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that runs out of rows looks for retries only once its own last outcome is committed: the
    recorder commits after the worker has moved on, and a deferral not yet committed reads as in flight.
    A slow disk under load made that window real; here the recorder is held back on purpose."""
    record = Outbox.record

    def slowly(self: Outbox, conn: Any, outcomes: Any) -> None:
        if any(o.status == DeliveryStatus.DEFERRED for o in outcomes):
            time.sleep(0.3)  # the fault: a commit that takes long (not a wait for anything in the test)
        record(self, conn, outcomes)

    monkeypatch.setattr(Outbox, "record", slowly)
    sink = FaultSink(tempfail={"sub1@example.com": 1})
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 2)
        rep = d.deliver(options=d.send_options(concurrency=1))  # retries after 0.01 s (the test settings)
    assert (rep.sent, rep.failed, rep.deferred) == (2, 0, 0)
    assert sink.copies() == {"sub0@example.com": 1, "sub1@example.com": 1}
    assert rows(d)["sub1@example.com"]["attempts"] == 2
    d.close()


def test_an_outcome_that_cannot_be_committed_stops_the_next_message_before_its_final_dot(tmp_path: Path) -> None:
    """The next message's commands and content go out while the last outcome is being committed, but its
    final dot waits for that commit: when the commit fails, the connection is dropped and the server never
    takes the next message. Only the message whose outcome was lost stays unrecorded (sent again later)."""
    sink = FaultSink()
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 8)
        with d.db.engine.begin() as conn:  # the database refuses sub3's outcome (a real refusal, by SQLite)
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_sub3 BEFORE UPDATE OF status ON deliveries WHEN NEW.status = 'sent' AND "
                "NEW.subscriber_id = (SELECT id FROM subscribers WHERE email = 'sub3@example.com') "
                "BEGIN SELECT RAISE(ABORT, 'the disk says no'); END"
            )
        with pytest.raises(DeliveryError, match=r"could not be recorded.*the disk says no.*run `digest send` again"):
            d.deliver(options=SendOptions(concurrency=1))
        assert [email for email, _ in sink.accepted] == [f"sub{i}@example.com" for i in range(4)]
        recorded = rows(d)
        assert [recorded[f"sub{i}@example.com"]["status"] for i in range(5)] == ["sent"] * 3 + ["sending", "pending"]
        with d.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_sub3")
        rep = d.deliver(options=SendOptions(concurrency=1))
    assert rep.sent == 4 and sorted(sink.copies().values()) == [1] * 8  # sub3 stays leased until its lease runs out
    d.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the worker shows its traceback
def test_a_claim_that_fails_while_a_reply_is_on_its_way_stops_the_send_with_every_message_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker claims its next batch while its last message's reply is on its way (the message is with
    the server by then). When that claim fails, the reply is still read and the message recorded before
    the send stops with the reason: no message the server took is left unrecorded."""
    claim = Outbox.claim
    calls = []

    def second_fails(self: Outbox, conn: Any, limit: int) -> Any:
        calls.append(limit)
        if len(calls) == 2:  # the fault: the database gives out (a real part cannot do so on demand)
            raise sqlite3.OperationalError("disk I/O error")
        return claim(self, conn, limit)

    monkeypatch.setattr(Outbox, "claim", second_fails)
    sink = FaultSink()
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 8)
        with pytest.raises(DeliveryError, match="disk I/O error"):
            d.deliver(options=SendOptions(concurrency=1, batch=3))
    recorded = rows(d)
    accepted = [email for email, _ in sink.accepted]
    assert accepted and all(recorded[email]["status"] == "sent" for email in accepted)
    # batches of 2 (8 rows, 4 shares): the next batch was claimed while the first message's reply was on
    # its way, and the send stopped before the second message
    assert calls == [2, 2] and accepted == ["sub0@example.com"]
    assert recorded["sub1@example.com"]["status"] == "pending"  # given back untried
    d.close()


def test_a_server_refusing_everything_stops_the_send_early(tmp_path: Path) -> None:
    sink = FaultSink(refuse_all=True)
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 60)
        with pytest.raises(DeliveryError, match="refused 10 messages in a row"):
            d.deliver(options=SendOptions(concurrency=2, batch=5))
    assert sum(sink.tries.values()) <= 11
    statuses = [r["status"] for r in rows(d).values()]
    assert statuses.count("pending") >= 45 and "sending" not in statuses


def test_a_throttling_relay_defers_then_the_next_run_finishes(tmp_path: Path) -> None:
    sink = FaultSink(always={f"sub{i}@example.com" for i in range(12)})
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 12)
        with pytest.raises(DeliveryError):
            d.deliver(options=SendOptions(concurrency=1, retry_seconds=60))
        assert {r["status"] for r in rows(d).values()} <= {"deferred", "pending"}
        sink.always.clear()
        with d.db.begin() as conn:  # as if the minute had passed
            conn.execute(t.deliveries.update().values(next_attempt_at=None))
        rep = d.deliver(options=SendOptions(concurrency=2))
    assert rep.sent == 12 and {r["status"] for r in rows(d).values()} == {"sent"}


def test_outbox_folder_mode_writes_one_file_per_subscriber(tmp_path: Path) -> None:
    d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, None, 9)
    rep = d.deliver(options=SendOptions(concurrency=4))
    files = sorted((tmp_path / "outbox" / "2025-W10").glob("*.eml"))
    assert rep.sent == 9 and len(files) == 9
    msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_subscribers_with_no_matching_topic_are_skipped_and_recorded(tmp_path: Path) -> None:
    sink = FaultSink()
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 3)
        d.subscribers.add("design@example.com", "D", ["designs"])
        d.subscribers.add("tm@example.com", "T", ["trademarks"])
        rep = d.deliver()
    recorded = rows(d)
    assert rep.sent == 4 and rep.skipped == 1 and recorded["design@example.com"]["status"] == "skipped"
    tm = message_from_bytes(dict(sink.accepted)["tm@example.com"], policy=policy.default)
    body = tm.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Story 6 about trademarks" in body and "about patents" not in body


def test_a_version_1_database_upgrades_without_loss(tmp_path: Path) -> None:
    path = restore("v1", tmp_path)  # made by the first release: no next_attempt_at, no claim index
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, reply_code) "
            "VALUES (1, 3, 'sent', 1, 250)"
        )
    db.close()
    upgrade_database(f"sqlite:///{path}")
    store = Database(f"sqlite:///{path}")
    with store.begin() as conn:
        assert state(store.engine).at_head
        row = conn.execute(select(t.deliveries).where(t.deliveries.c.subscriber_id == 3)).one()
    store.close()
    assert row.status == "sent" and row.reply_code == 250 and row.next_attempt_at is None
    with sqlite3.connect(path) as raw:
        assert "ix_deliveries_claim" in {r[1] for r in raw.execute("PRAGMA index_list(deliveries)")}


def test_send_options_and_delivery_settings_are_checked() -> None:
    from click.testing import CliRunner

    from digest.cli import cli
    from digest.config import load_settings
    from digest.errors import ConfigError

    out = CliRunner().invoke(cli, ["send", "--help"]).output
    assert "--concurrency" in out and "--rate" in out and "Example:" in out
    assert CliRunner().invoke(cli, ["send", "--concurrency", "0"]).exit_code == 2
    with pytest.raises(ConfigError, match="DKIM_SELECTOR"):
        load_settings(None, env={"DKIM_KEY_FILE": __file__})
    with pytest.raises(ConfigError, match="SMTP_MAX_ATTEMPTS"):
        load_settings(None, env={"SMTP_MAX_ATTEMPTS": "0"})
    smtp = load_settings(None, env={"SMTP_MAX_PER_CONNECTION": "7", "SMTP_RETRY_SECONDS": "0.5"}).smtp
    assert (smtp.max_per_connection, smtp.retry_seconds, smtp.dkim_key_file) == (7, 0.5, None)
