"""The scheduler under controlled time: weekly firing, catch-up, DST, races, approval, min_articles."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.triggers.cron import CronTrigger

from digest.config import ScheduleConfig, load_settings
from digest.delivery.lease import Lease, process_owner
from digest.errors import ConfigError
from digest.facade import Digest
from digest.ops.daemon import Daemon, Jobs, planned_jobs
from digest.ops.schedule import Schedule, last_fire, weekly_trigger
from digest.timespec import parse_weekly

from .support.data import add_article, add_subscribers
from .support.sending import Running, schedule_settings, until
from .support.smtp import gated_sink

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 9 March 2026, 07:00 in Berlin: the send time of these tests.
MONDAY = datetime(2026, 3, 9, 7, 0, tzinfo=BERLIN)


OPEN: list[Digest] = []


@pytest.fixture
def db_url(db_url: str) -> Iterator[str]:
    """conftest's db_url (SQLite, then PostgreSQL), with this module's Digests closed before it is dropped."""
    yield db_url
    while OPEN:
        OPEN.pop().close()


@pytest.fixture(autouse=True)
def _close_digests() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def opened(digest: Digest) -> Digest:
    OPEN.append(digest)
    return digest


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'digest.db'}"


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('send = "1 07:00"', "schedule.send"),
        ('send = "mon 25:00"', "schedule.send"),
        ('build = "someday 12:00"', "schedule.build"),
        ('timezone = "Mars/Olympus"', "schedule.timezone"),
        ('grace = "two days"', "schedule.grace"),
        ('collect_every = "0h"', "schedule.collect_every"),
        ("min_articles = 0", "schedule.min_articles"),
        ('editors = ["not an address"]', "schedule.editors[0]"),
        ('require_approval = true\neditors = ["ed@example.org"]', "schedule.build"),
        ('require_approval = true\nbuild = "fri 12:00"', "schedule.editors"),
    ],
)
def test_bad_schedule_values_name_file_and_key(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(f"[schedule]\n{line}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert err.value.key == key and str(path) in str(err.value)


def test_good_schedule_parses(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(
        '[schedule]\ntimezone = "Europe/Berlin"\ncollect_every = "30m"\nbuild = "Friday 12:00"\n'
        'send = "mon 07:00"\ngrace = "1d12h"\nrequire_approval = true\neditors = ["Ed@Example.org"]\n'
    )
    sched = Schedule.from_config(load_settings(path, env={}).schedule)
    assert (sched.collect_every, sched.grace) == (timedelta(minutes=30), timedelta(days=1, hours=12))
    assert str(sched.build) == "fri 12:00"
    assert [e.lower() for e in sched.editors] == ["ed@example.org"]


# -- triggers: day names, weekly firing, DST ---------------------------------------------------


def test_day_names_fire_on_that_day_unlike_crontab_numbers() -> None:
    start = datetime(2026, 3, 4, tzinfo=UTC)  # a Wednesday
    ours = weekly_trigger(parse_weekly("mon 07:00"), ZoneInfo("UTC")).get_next_fire_time(None, start)
    crontab = CronTrigger.from_crontab("0 7 * * 1", timezone=UTC).get_next_fire_time(None, start)
    assert ours is not None and crontab is not None
    assert ours.strftime("%a %H:%M") == "Mon 07:00"
    assert crontab.strftime("%a") == "Tue"  # the trap this module avoids: APScheduler counts Monday as 0


def fires(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    out: list[datetime] = []
    prev, now = None, start
    while True:
        nxt = trigger.get_next_fire_time(prev, now)
        if nxt is None or nxt > end:
            return out
        out.append(nxt)
        prev, now = nxt, nxt


@pytest.mark.parametrize(
    ("tz", "changes"),
    [
        (BERLIN, [datetime(2026, 3, 29), datetime(2026, 10, 25)]),
        (NEW_YORK, [datetime(2026, 3, 8), datetime(2026, 11, 1)]),
    ],
)
def test_weekly_send_fires_once_in_both_dst_weeks(tz: ZoneInfo, changes: list[datetime]) -> None:
    trigger = weekly_trigger(parse_weekly("mon 07:00"), tz)
    for change in changes:  # the Sunday clocks change; check the week before through the week after
        start = (change - timedelta(days=8)).replace(tzinfo=tz)
        got = fires(trigger, start, start + timedelta(days=16))
        assert len(got) == 2
        assert [(f.strftime("%a %H:%M")) for f in got] == ["Mon 07:00", "Mon 07:00"]
        assert got[0].utcoffset() != got[1].utcoffset()  # one on each side of the change
        gap = got[1].astimezone(UTC) - got[0].astimezone(UTC)
        assert gap in (timedelta(days=7, hours=1), timedelta(days=7, hours=-1))


def test_a_time_that_happens_twice_fires_once() -> None:
    fall_back = (datetime(2026, 10, 18, tzinfo=BERLIN), datetime(2026, 11, 1, tzinfo=BERLIN))
    plain = CronTrigger(day_of_week="sun", hour=2, minute=30, timezone=BERLIN)
    assert len(fires(plain, *fall_back)) == 3  # APScheduler alone: twice on 25 October
    ours = fires(weekly_trigger(parse_weekly("sun 02:30"), BERLIN), *fall_back)
    assert [f.date().isoformat() for f in ours] == ["2026-10-18", "2026-10-25"]
    assert ours[1].utcoffset() == timedelta(hours=2)  # the first 02:30 of that night


def test_last_fire() -> None:
    trigger = weekly_trigger(parse_weekly("mon 07:00"), BERLIN)
    assert last_fire(trigger, MONDAY + timedelta(days=1)) == MONDAY
    assert last_fire(trigger, MONDAY - timedelta(seconds=1)) == MONDAY - timedelta(days=7)


# -- the daemon under controlled time -------------------------------------------------------------


def prepared(tmp: Path, url: str, port: int, **sched: object) -> tuple[Digest, list[str]]:
    digest = opened(Digest(schedule_settings(tmp, url, port, timezone="Europe/Berlin", **sched)))
    for n in range(3):
        add_article(digest, n, MONDAY - timedelta(days=3, hours=n))
    return digest, add_subscribers(digest, 3)


def first_start(tmp: Path, url: str, port: int, **sched: object) -> None:
    """The daemon's first start on Sunday evening: its jobs are stored; it is then stopped."""
    with (
        time_machine.travel(MONDAY - timedelta(hours=11), tick=True),
        Running(Daemon(schedule_settings(tmp, url, port, timezone="Europe/Berlin", **sched))) as r,
    ):
        r.wait_for("collect")


def test_a_stop_that_comes_before_the_scheduler_runs_still_stops_it(tmp_path: Path, sqlite_url: str) -> None:
    daemon = Daemon(schedule_settings(tmp_path, sqlite_url, timezone="Europe/Berlin"))
    daemon.stop()  # SIGTERM while the daemon is still starting: the scheduler is not running yet
    thread = threading.Thread(target=daemon.serve, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the daemon kept running after a stop that came during its start"


@pytest.mark.slow  # waits a real second for the send time
def test_weekly_send_fires_at_its_time(tmp_path: Path, sqlite_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, readers = prepared(tmp_path, sqlite_url, sink.port)
        with time_machine.travel(MONDAY - timedelta(seconds=1), tick=True), Running(Daemon(digest.settings)) as r:
            r.wait_for("send")
        assert sorted(sink.recipients()) == readers
        assert digest.db.issues.latest(("sent",)) is not None


def test_send_missed_within_grace_runs_once_on_return(tmp_path: Path, db_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, readers = prepared(tmp_path, db_url, sink.port)
        first_start(tmp_path, db_url, sink.port)
        # down from Sunday night to Tuesday 09:00: the Monday send is 26 h late, inside the 2-day grace
        with time_machine.travel(MONDAY + timedelta(hours=26), tick=True), Running(Daemon(digest.settings)) as r:
            r.wait_for("send")
            job = r.daemon.scheduler.get_job("send")
            assert job.next_run_time == MONDAY + timedelta(days=7)
        assert sorted(sink.recipients()) == readers  # once each


def test_send_missed_beyond_grace_is_skipped_with_a_warning(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, readers = prepared(tmp_path, sqlite_url, sink.port)
        sched = Schedule.from_config(digest.settings.schedule)
        add_article(digest, 99, MONDAY - timedelta(days=8))
        assert "3 sent" in Jobs(digest, sched, "d", clock=lambda: MONDAY - timedelta(days=7, hours=1)).send().text
        first_start(tmp_path, sqlite_url, sink.port)
        with (
            caplog.at_level(logging.WARNING, logger="digest"),
            time_machine.travel(MONDAY + timedelta(days=3), tick=True),
            Running(Daemon(digest.settings)) as r,
        ):
            r.wait_for("send", EVENT_JOB_MISSED)
            assert r.daemon.scheduler.get_job("send").next_run_time == MONDAY + timedelta(days=7)
        assert sorted(sink.recipients()) == readers  # only last week's issue
        assert any("missed by more than the grace period" in m and "no article is lost" in m for m in caplog.messages)
        # the skipped week's articles are in the next issue: its period starts at the last issue's cut-off
        issue = digest.build(MONDAY + timedelta(days=7))
        assert sorted(a.guid for a in issue.articles) == ["g0", "g1", "g2"]


def test_changed_send_time_keeps_a_pending_missed_run(tmp_path: Path, sqlite_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        _, readers = prepared(tmp_path, sqlite_url, sink.port)
        first_start(tmp_path, sqlite_url, sink.port)
        moved = schedule_settings(tmp_path, sqlite_url, sink.port, timezone="Europe/Berlin", send="tue 08:00")
        with time_machine.travel(MONDAY + timedelta(hours=5), tick=True), Running(Daemon(moved)) as r:
            r.wait_for("send")  # the Monday run missed while down still happens
            assert r.daemon.scheduler.get_job("send").next_run_time == MONDAY + timedelta(days=1, hours=1)
        assert sorted(sink.recipients()) == readers


def test_two_daemons_on_one_database_send_once(tmp_path: Path, db_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, readers = prepared(tmp_path, db_url, sink.port)
        first_start(tmp_path, db_url, sink.port)
        with (
            time_machine.travel(MONDAY + timedelta(hours=2), tick=True),
            Running(Daemon(digest.settings)) as a,
            Running(Daemon(digest.settings)) as b,
        ):
            assert until(lambda: digest.db.issues.latest(("sent",)) is not None)
            assert a.daemon.scheduler.get_job("send").next_run_time == MONDAY + timedelta(days=7)
            assert b.daemon.scheduler.get_job("send").next_run_time == MONDAY + timedelta(days=7)
        assert sorted(sink.recipients()) == readers


# -- one sender: jobs racing on one issue, deterministic --------------------------------------------


def test_racing_senders_never_send_twice_nor_interleave(tmp_path: Path, db_url: str) -> None:
    """Sender A holds its first message at the SMTP server; sender B runs meanwhile and must leave the issue
    to A; released, A finishes. Every reader gets exactly one copy."""
    with gated_sink() as sink:
        digest, readers = prepared(tmp_path, db_url, sink.port)
        other = opened(Digest(digest.settings))
        sched = Schedule.from_config(digest.settings.schedule)
        clock = lambda: MONDAY  # noqa: E731
        a = Jobs(digest, sched, "daemon-a", clock=clock)
        b = Jobs(other, sched, "daemon-b", clock=clock)
        results: dict[str, str] = {}
        thread = threading.Thread(target=lambda: results.setdefault("a", a.send().text))
        thread.start()
        assert sink.arrived.wait(20)  # A is in the middle of its send
        results["b"] = b.send().text
        sink.gate.set()
        thread.join(20)
        assert "being sent by daemon-a" in results["b"]
        assert "3 sent" in results["a"]
        assert sorted(sink.recipients()) == readers
        assert "was already sent; nothing to do" in b.send().text  # and again later: nothing
        assert sorted(sink.recipients()) == readers


def test_lease_has_one_holder_among_many(db_url: str, tmp_path: Path) -> None:
    digest, _ = prepared(tmp_path, db_url, 25)
    issue = digest.build(MONDAY)
    start = threading.Barrier(8)
    won: list[str] = []

    def contend(i: int) -> None:
        lease = Lease(opened(Digest(digest.settings)).db.issues, issue.id, f"owner-{i}")
        start.wait()
        if lease.acquire():
            won.append(lease.owner)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1


def test_expired_lease_is_taken_over(tmp_path: Path, sqlite_url: str) -> None:
    digest, _ = prepared(tmp_path, sqlite_url, 25)
    issue = digest.build(MONDAY)
    first = Lease(digest.db.issues, issue.id, "crashed", ttl=timedelta(minutes=10))
    assert first.acquire()
    second = Lease(digest.db.issues, issue.id, "next")
    assert not second.acquire()
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11)):
        assert second.acquire()


def test_lease_of_a_process_gone_from_this_host_is_taken_over_at_once(tmp_path: Path, sqlite_url: str) -> None:
    digest, _ = prepared(tmp_path, sqlite_url, 25)
    issue = digest.build(MONDAY)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    host = socket.gethostname()
    for holder, taken in (
        (f"{host}:{finished.stdout.strip()}:dead0000", True),  # gone: taken at once
        (f"{host}:{os.getppid()}:alive000", False),  # still running
        (f"elsewhere.example:{finished.stdout.strip()}:far00000", False),
    ):  # another host
        assert Lease(digest.db.issues, issue.id, holder).acquire()
        assert Lease(digest.db.issues, issue.id, process_owner()).acquire() is taken, holder
        Lease(digest.db.issues, issue.id, process_owner() if taken else holder).release()
    assert process_owner() == process_owner(), "one identity per process"


# -- approval and min_articles ---------------------------------------------------------------------


def test_approval_required_tests_editors_then_waits_then_sends(tmp_path: Path, sqlite_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, readers = prepared(
            tmp_path, sqlite_url, sink.port, build="fri 12:00", require_approval=True, editors=("ed@example.org",)
        )
        sched = Schedule.from_config(digest.settings.schedule)
        friday = MONDAY - timedelta(days=2, hours=19)
        built = Jobs(digest, sched, "d", clock=lambda: friday).build()
        assert "test sent to 1 of 1 editors" in built.text
        assert sink.recipients() == ["ed@example.org"]
        assert str(sink.messages[0][1]["Subject"]).strip().startswith("[TEST] ")
        assert "already have" in Jobs(digest, sched, "d", clock=lambda: friday).build().text  # idempotent

        held = Jobs(digest, sched, "d", clock=lambda: MONDAY).send()
        assert "not approved yet" in held.text and held.retry_at == MONDAY + timedelta(hours=1)
        assert sink.recipients() == ["ed@example.org"]

        digest.approve()
        sent = Jobs(digest, sched, "d", clock=lambda: MONDAY + timedelta(hours=1)).send()
        assert "3 sent" in sent.text
        assert sorted(sink.recipients()) == sorted(["ed@example.org", *readers])


def test_unapproved_beyond_grace_is_skipped_and_rolls_forward(tmp_path: Path, sqlite_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, _ = prepared(
            tmp_path, sqlite_url, sink.port, build="fri 12:00", require_approval=True, editors=("ed@example.org",)
        )
        sched = Schedule.from_config(digest.settings.schedule)
        Jobs(digest, sched, "d", clock=lambda: MONDAY - timedelta(days=2, hours=19)).build()
        late = Jobs(digest, sched, "d", clock=lambda: MONDAY + timedelta(days=2)).send()
        assert "not approved within" in late.text and late.retry_at is None
        assert sink.recipients() == ["ed@example.org"]
        assert len(digest.build(MONDAY + timedelta(days=5)).articles) == 3


def test_min_articles_skips_a_thin_week_and_rolls_it_forward(tmp_path: Path, sqlite_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, readers = prepared(tmp_path, sqlite_url, sink.port, min_articles=5)
        sched = Schedule.from_config(digest.settings.schedule)
        first = Jobs(digest, sched, "d", clock=lambda: MONDAY).send()
        assert "skipped: 3 articles, fewer than min_articles = 5" in first.text
        assert sink.recipients() == []
        for n in range(3, 5):
            add_article(digest, n, MONDAY + timedelta(days=3, hours=n))
        second = Jobs(digest, sched, "d", clock=lambda: MONDAY + timedelta(days=7)).send()
        assert "3 sent" in second.text
        sent = digest.db.issues.latest(("sent",))
        assert sent is not None and len(sent.articles) == 5  # the skipped week's three and this week's two
        assert sorted(sink.recipients()) == readers


def test_sent_week_then_thin_week_rolls_into_the_next(tmp_path: Path, sqlite_url: str) -> None:
    with gated_sink(open_gate=True) as sink:
        digest, _ = prepared(tmp_path, sqlite_url, sink.port, min_articles=2)
        sched = Schedule.from_config(digest.settings.schedule)
        assert "3 sent" in Jobs(digest, sched, "d", clock=lambda: MONDAY).send().text
        add_article(digest, 10, MONDAY + timedelta(days=2))
        assert "skipped" in Jobs(digest, sched, "d", clock=lambda: MONDAY + timedelta(days=7)).send().text
        add_article(digest, 11, MONDAY + timedelta(days=9))
        assert "3 sent" in Jobs(digest, sched, "d", clock=lambda: MONDAY + timedelta(days=14)).send().text
        titles = {a.title for a in digest.db.issues.latest(("sent",)).articles}  # type: ignore[union-attr]
        assert titles == {"Patent ruling number 10", "Patent ruling number 11"}


# -- visibility ---------------------------------------------------------------------------------------


def test_schedule_lists_next_runs_in_local_time(tmp_path: Path, sqlite_url: str) -> None:
    s = schedule_settings(tmp_path, sqlite_url, None, timezone="America/New_York", build="fri 12:00")
    with time_machine.travel(datetime(2026, 3, 4, 12, tzinfo=UTC)):
        jobs = {j.job_id: j for j in planned_jobs(s)}
    assert jobs["send"].next_run == datetime(2026, 3, 9, 7, tzinfo=NEW_YORK)
    assert jobs["build"].next_run == datetime(2026, 3, 6, 12, tzinfo=NEW_YORK)
    assert not jobs["send"].stored


def test_reload_updates_jobs(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "digest.toml"
    path.write_text('sources = []\n[schedule]\ntimezone = "Europe/Berlin"\n')
    env = {"DIGEST_DATABASE_URL": sqlite_url}
    daemon = Daemon(load_settings(path, env=env), loader=lambda: load_settings(path, env=env))
    with time_machine.travel(MONDAY - timedelta(days=2), tick=True), Running(daemon) as r:
        r.wait_for("collect")
        path.write_text(
            'sources = []\n[schedule]\ntimezone = "Europe/Berlin"\nsend = "wed 09:30"\nbuild = "tue 10:00"\n'
        )
        daemon.reload()
        assert daemon.scheduler.get_job("send").next_run_time == MONDAY + timedelta(days=2, hours=2, minutes=30)
        assert daemon.scheduler.get_job("build") is not None
        path.write_text('[schedule]\nsend = "never"\n')
        daemon.reload()  # a bad file is logged; the running schedule stays
        assert daemon.scheduler.get_job("send").next_run_time == MONDAY + timedelta(days=2, hours=2, minutes=30)


def test_schedule_config_defaults() -> None:
    s = Schedule.from_config(ScheduleConfig())
    assert (str(s.send), s.grace, s.collect_every, s.min_articles) == (
        "mon 07:00",
        timedelta(days=2),
        timedelta(hours=1),
        1,
    )


@pytest.mark.parametrize(
    ("written", "shown"), [("1h", "every 1h"), ("90m", "every 1h30m"), ("2d", "every 2d"), ("45s", "every 45s")]
)
def test_the_collect_interval_is_shown_as_written(written: str, shown: str) -> None:
    assert Schedule.from_config(ScheduleConfig(collect_every=written)).describe("collect") == shown
