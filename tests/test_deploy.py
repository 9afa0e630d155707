"""The deployment files in deploy/: their exact command lines run here, and the daemon stops cleanly."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from digest.db import tables as t
from digest.facade import Digest
from digest.ops.daemon import Daemon

from .support.data import ROOT, add_article, add_subscribers
from .support.sending import Running, digest_env, schedule_settings
from .support.smtp import gated_sink

DEPLOY = ROOT / "deploy"
HOME = "/srv/ip-digest"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def argv(command: str) -> list[str]:
    """A deployed command line, with the installed `digest` replaced by this checkout's."""
    words = shlex.split(command)
    assert words[0] in (f"{HOME}/.venv/bin/digest", ".venv/bin/digest"), command
    return [sys.executable, "-m", "digest", *words[1:]]


def cron_command() -> tuple[list[str], str]:
    line = next(x for x in (DEPLOY / "crontab").read_text().splitlines() if x.strip() and not x.startswith("#"))
    fields = line.split(None, 5)
    cd, run = (part.strip() for part in fields[5].split("&&"))
    return fields[:5], run if cd == f"cd {HOME}" else ""


def env_for(project: Path, db: str, port: int) -> dict[str, str]:
    return digest_env(db, port, DIGEST_CONFIG=str(project / "digest.toml"))


def test_units_name_the_commands_and_directory() -> None:
    daemon = unit("ip-digest.service")["Service"]
    run = unit("ip-digest-run.service")["Service"]
    assert daemon["WorkingDirectory"] == run["WorkingDirectory"] == HOME
    assert shlex.split(daemon["ExecStart"])[1:] == ["daemon"]
    assert daemon["KillSignal"] == "SIGTERM" and "-HUP" in daemon["ExecReload"]
    assert shlex.split(run["ExecStart"])[1:] == ["-q", "run"]
    schedule, command = cron_command()
    assert schedule == ["0", "7", "*", "*", "mon"]  # a day name: no weekday-number confusion
    assert argv(command) == argv(run["ExecStart"])
    timer = unit("ip-digest-run.timer")["Timer"]
    assert timer["Persistent"] == "true"


def test_timer_fires_on_mondays_at_seven() -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here; the OnCalendar expression is not checked")
    spec = unit("ip-digest-run.timer")["Timer"]["OnCalendar"]
    out = subprocess.run(
        [tool, "calendar", "--iterations=3", spec],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=True,
    ).stdout
    elapses = [line.split(":", 1)[1].strip() for line in out.splitlines() if "elapse" in line or "Iter." in line]
    assert len(elapses) == 3 and all(e.startswith("Mon ") and " 07:00:00" in e for e in elapses)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ip-digest.service", "ip-digest-run.service"])
def test_unit_commands_have_help(name: str) -> None:
    p = subprocess.run(
        [*argv(unit(name)["Service"]["ExecStart"]), "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert p.returncode == 0 and "Example:" in p.stdout


@pytest.mark.slow
def test_run_unit_then_cron_line_send_once(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("sources = []\n")
    db = f"sqlite:///{tmp_path / 'digest.db'}"
    with gated_sink(open_gate=True) as sink:
        digest = Digest(schedule_settings(tmp_path, db))
        add_article(digest, 1, datetime.now(UTC) - timedelta(hours=2))
        readers = add_subscribers(digest, 2)
        digest.close()
        env = env_for(tmp_path, db, sink.port)
        first = subprocess.run(
            argv(unit("ip-digest-run.service")["Service"]["ExecStart"]),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert first.returncode == 0, first.stderr
        assert sorted(sink.recipients()) == readers
        again = subprocess.run(
            argv(cron_command()[1]), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert sorted(sink.recipients()) == readers  # nothing new the second time


class DaemonLog:
    """The stderr of a `digest daemon` child, read as it comes; ``heard`` is set once it logs a SIGTERM."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.heard = threading.Event()
        self.reader = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.reader.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line)
            if "SIGTERM: finishing the message in flight" in line:
                self.heard.set()

    def text(self) -> str:
        return "".join(self.lines)


@pytest.mark.slow
def test_sigterm_mid_send_finishes_the_message_and_exits_0(tmp_path: Path) -> None:
    """A real `digest daemon` (the unit's command line) with a send due at start; the SMTP server holds the
    messages in flight until SIGTERM has been sent; those (at most one per connection) are recorded, no
    further message is started, the daemon exits 0, and `digest send` then reaches the rest, none twice."""
    (tmp_path / "digest.toml").write_text('sources = []\n[schedule]\ngrace = "8d"\n')
    db = f"sqlite:///{tmp_path / 'digest.db'}"
    with gated_sink() as sink:
        s = schedule_settings(tmp_path, db, sink.port, grace="8d")
        with time_machine.travel(datetime.now(UTC) - timedelta(days=8), tick=True), Running(Daemon(s)) as r:
            r.wait_for("collect")  # the jobs are stored; the next send is now overdue, inside the grace
        digest = Digest(s)
        add_article(digest, 1, datetime.now(UTC) - timedelta(hours=2))
        readers = add_subscribers(digest, 7)
        proc = subprocess.Popen(
            argv(unit("ip-digest.service")["Service"]["ExecStart"]),
            cwd=tmp_path,
            env=env_for(tmp_path, db, sink.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        log = DaemonLog(proc)
        try:
            assert sink.arrived.wait(60), "the daemon never started its send"
            proc.send_signal(signal.SIGTERM)
            # Python runs the handler in the daemon's main thread, which under load can be late: the messages
            # in flight are released only once the daemon says it heard the signal, else a connection freed
            # before that would start one more message.
            assert log.heard.wait(30), f"the daemon did not log the SIGTERM: {log.text()}"
            sink.gate.set()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.reader.join(10)
            if proc.stderr is not None:
                proc.stderr.close()
        err = log.text()
        assert proc.returncode == 0, err
        assert "SIGTERM" in err and "job send" in err
        with digest.db.begin() as conn:
            rows = conn.execute(select(t.deliveries.c.status)).all()
            status = conn.execute(select(t.issues.c.status)).scalar()
        sent = [r.status for r in rows if r.status == "sent"]
        assert 1 <= len(sent) <= 4 and status == "sending"  # default concurrency: 4 connections
        assert len(sink.recipients()) == len(sent) < len(readers)
        resumed = subprocess.run(
            [*argv(f"{HOME}/.venv/bin/digest"), "send"],
            cwd=tmp_path,
            env=env_for(tmp_path, db, sink.port),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert resumed.returncode == 0, resumed.stderr
        assert sorted(sink.recipients()) == readers  # the second reader now, the first not twice
        digest.close()


@pytest.mark.slow
def test_cron_run_during_a_daemon_send_leaves_it_to_the_daemon(tmp_path: Path) -> None:
    """The daemon's send holds its first message at the SMTP server; cron's `digest run` starts meanwhile,
    finds the issue leased, sends nothing and exits 0; released, the daemon finishes: one copy each."""
    from digest.ops.daemon import Jobs
    from digest.ops.schedule import Schedule

    (tmp_path / "digest.toml").write_text("sources = []\n")
    db = f"sqlite:///{tmp_path / 'digest.db'}"
    with gated_sink() as sink:
        digest = Digest(schedule_settings(tmp_path, db, sink.port))
        add_article(digest, 1, datetime.now(UTC) - timedelta(hours=2))
        readers = add_subscribers(digest, 3)
        jobs = Jobs(digest, Schedule.from_config(digest.settings.schedule), "daemon-1")
        result: list[str] = []
        sender = threading.Thread(target=lambda: result.append(jobs.send().text))
        sender.start()
        assert sink.arrived.wait(30)
        cron = subprocess.run(
            argv(cron_command()[1]),
            env=env_for(tmp_path, db, sink.port),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        sink.gate.set()
        sender.join(30)
        assert cron.returncode == 0, cron.stderr
        assert cron.stdout + cron.stderr == "", "the cron line is -q: a run that leaves the send to the daemon is quiet"
        assert "3 sent" in result[0]
        assert sorted(sink.recipients()) == readers
        digest.close()


@pytest.mark.slow
def test_status_approve_schedule_commands(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text(
        'sources = []\n[schedule]\ntimezone = "Europe/Berlin"\n'
        'build = "fri 12:00"\nrequire_approval = true\n'
        'editors = ["ed@example.org"]\n'
    )
    db = f"sqlite:///{tmp_path / 'digest.db'}"
    digest = Digest(schedule_settings(tmp_path, db))
    add_article(digest, 1, datetime.now(UTC) - timedelta(hours=2))
    digest.build()
    digest.db.sources.record_fetch("https://feeds.example/ip", "IP Feed", error="HTTP 503")
    digest.close()
    env = env_for(tmp_path, db, 2525)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "digest", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    status = cli("status")
    assert status.returncode == 0
    assert "IP Feed (no longer in digest.toml): last fetch" in status.stdout and "error: HTTP 503" in status.stdout
    assert "not approved" in status.stdout and "last issue: none sent yet" in status.stdout
    assert cli("approve").returncode == 0
    assert "approved 20" in cli("status").stdout
    schedule = cli("schedule").stdout
    assert "send        mon 07:00 Europe/Berlin" in schedule and "build" in schedule and "CE" in schedule
    (tmp_path / "digest.toml").write_text('[schedule]\nsend = "1 07:00"\n')
    bad = cli("schedule")
    assert bad.returncode == 2 and "schedule.send" in bad.stderr and "digest.toml" in bad.stderr
