"""What the commands tell an operator: read-only commands leave no database behind, a command that could not
do its job exits non-zero, and `-q` keeps cron quiet. Real child processes, real SQLite, a loopback SMTP
server and a loopback feed."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest

from .support.http import Site
from .support.smtp import Sink


def run_digest(
    folder: Path, *args: str, env: dict[str, str] | None = None, toml: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`digest ARGS` in ``folder`` (its digest.toml and digest.db), with no SMTP_ or DIGEST_ variable of ours."""
    if toml is not None:
        (folder / "digest.toml").write_text(toml, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DIGEST_"))}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "digest", *args], cwd=folder, env=clean, capture_output=True, text=True, timeout=120
    )


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# -- read-only commands -------------------------------------------------------------------------------


def test_db_current_before_any_database_says_so_and_makes_none(tmp_path: Path) -> None:
    done = run_digest(tmp_path, "db", "current")
    assert done.returncode == 0, done.stderr
    assert f"no database at {tmp_path.resolve() / 'digest.db'} yet" in done.stdout
    assert not (tmp_path / "digest.db").exists()


def test_schedule_before_the_first_run_plans_from_the_configuration(tmp_path: Path) -> None:
    toml = '[[sources]]\nname = "a"\nurl = "a.xml"\n\n[schedule]\nsend = "tue 08:30"\nbuild = "mon 12:00"\n'
    done = run_digest(tmp_path, "schedule", toml=toml)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["collect", "build", "send"]
    assert "tue 08:30" in lines[2] and "next: Tue " in lines[2] and "(when the daemon starts)" in lines[2]
    assert lines[-1].startswith("no runs yet")
    assert not (tmp_path / "digest.db").exists()


def test_schedule_writes_nothing_into_a_database_the_daemon_never_ran_on(tmp_path: Path) -> None:
    built = run_digest(tmp_path, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    before = tables(tmp_path / "digest.db")
    done = run_digest(tmp_path, "schedule")
    assert done.returncode == 0, done.stderr
    assert "no runs yet" in done.stdout
    assert tables(tmp_path / "digest.db") == before and "scheduler_jobs" not in before


# -- exit status and -q -------------------------------------------------------------------------------

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    + "".join(
        f"<item><title>{title}</title><link>https://news.example/{n}</link><guid>{n}</guid>"
        f"<category>{tag}</category><description>{text * 8}</description></item>"
        for n, (title, tag, text) in enumerate(
            [
                ("Court narrows software patent claims", "Patents", "The appeals court read the claims narrowly. "),
                ("Brand owners win a trademark dispute", "Trademarks", "The tribunal found the marks confusing. "),
            ]
        )
    )
    + "</channel></rss>"
)


def smtp_env(sink: Sink) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port), "SMTP_SECURITY": "none"}


def feed_toml(site: Site, extra: str = "") -> str:
    return f'[[sources]]\nname = "Wire"\nurl = "{site.add("/feed.xml", RSS)}"\n\n{extra}'


@pytest.mark.parametrize("args", [["preview"], ["send-test", "--to", "editor@example.org"]])
def test_a_command_with_no_issue_to_work_on_exits_1(tmp_path: Path, args: list[str]) -> None:
    done = run_digest(tmp_path, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("Error: no issue has been built yet")


def test_quiet_run_prints_nothing_when_it_sends(tmp_path: Path, site: Site, smtp_sink: Sink) -> None:
    toml = feed_toml(site)
    added = run_digest(tmp_path, "subscribers", "add", "reader@example.org", toml=toml)
    assert added.returncode == 0, added.stderr
    done = run_digest(tmp_path, "-q", "run", env=smtp_env(smtp_sink))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert [rcpts for _, rcpts, _ in smtp_sink.messages] == [["reader@example.org"]]
    loud = run_digest(tmp_path, "run", env=smtp_env(smtp_sink))  # the same week again: says it, without -q
    assert loud.returncode == 0 and "already sent" in loud.stdout, loud.stdout + loud.stderr


def test_an_unapproved_send_under_cron_says_the_next_run_sends_it(tmp_path: Path, site: Site, smtp_sink: Sink) -> None:
    today = datetime.now(UTC).strftime("%a").lower()  # the send was due at midnight today: within its grace
    schedule = (
        f'[schedule]\nbuild = "{today} 00:00"\nsend = "{today} 00:00"\nrequire_approval = true\n'
        'editors = ["editor@example.org"]\ngrace = "6d"\n'
    )
    run_digest(tmp_path, "subscribers", "add", "reader@example.org", toml=feed_toml(site, schedule))
    done = run_digest(tmp_path, "-q", "run", env=smtp_env(smtp_sink))
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
    assert "is not approved yet (run `digest approve`)" in done.stderr
    assert "the next `digest run` or `digest send` sends it once it is approved, until " in done.stderr
    assert "retrying at" not in done.stderr
    assert smtp_sink.messages == []
    approved = run_digest(tmp_path, "-q", "approve")
    assert (approved.returncode, approved.stdout, approved.stderr) == (0, "", "")
    sent = run_digest(tmp_path, "-q", "send", env=smtp_env(smtp_sink))
    assert (sent.returncode, sent.stdout, sent.stderr) == (0, "", "")
    assert len(smtp_sink.messages) == 1


def test_a_send_summary_gives_its_count_over_its_own_time(tmp_path: Path, site: Site, smtp_sink: Sink) -> None:
    toml = feed_toml(site)
    for n in range(3):
        run_digest(tmp_path, "subscribers", "add", f"reader{n}@example.org", toml=toml)
    done = run_digest(tmp_path, "run", env=smtp_env(smtp_sink))
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"messages: 3 sent, .*; (\d+) sent in ([\d.e-]+) s \(([\d.e+-]+)/s\)", done.stdout)
    assert found is not None, done.stdout
    count, seconds, rate = int(found[1]), float(found[2]), float(found[3])
    assert count == len(smtp_sink.messages) == 3
    assert rate == float(f"{count / seconds:.3g}")


# -- logs ---------------------------------------------------------------------------------------------


def json_lines(stderr: str) -> list[dict[str, object]]:
    """Every stderr line as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in stderr.splitlines()]


def test_log_format_json_makes_every_stderr_line_json_errors_included(tmp_path: Path, site: Site) -> None:
    dead = site.add("/dead", "gone", status=404)
    toml = f'[[sources]]\nname = "Dead"\nurl = "{dead}"\n'
    runs = [
        run_digest(tmp_path, "--log-format", "json", "collect", toml=toml),  # warnings, then an error
        run_digest(tmp_path, "--log-format", "json", "report", "2020-W01"),  # a DigestError
        run_digest(tmp_path, "--log-format", "json", "subscribers", "add", "not@@address"),  # click's own
        run_digest(tmp_path, "--log-format", "json", "no-such-command"),
        run_digest(tmp_path, "--log-format=json", "subscribers", "list"),  # a count beside the output
        run_digest(tmp_path, "--log-format", "json", "preview"),
    ]
    assert [r.returncode for r in runs] == [1, 2, 2, 2, 0, 1], [r.stderr for r in runs]
    for done in runs:
        lines = json_lines(done.stderr)
        assert lines, done.args
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert json_lines(runs[0].stderr)[-1]["message"] == "all 1 sources failed"
    assert "EMAIL" in str(json_lines(runs[2].stderr)[-1]["message"])
    assert json_lines(runs[4].stderr) == [json_lines(runs[4].stderr)[0]] and runs[4].stdout == ""


def test_a_scrape_of_the_metrics_port_logs_nothing(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text('[[sources]]\nname = "Local"\nurl = "missing.xml"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DIGEST_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest", "--log-format", "json", "daemon", "--metrics-port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict[str, object]] = []
    listening = threading.Event()
    found: list[str] = []  # the metrics URL the daemon logs

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = json.loads(raw)
            lines.append(line)
            if str(line["message"]).startswith("metrics: http://"):
                found.append(str(line["message"]).removeprefix("metrics: "))
                listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert listening.wait(60), lines
        for _ in range(3):
            with urllib.request.urlopen(found[0], timeout=10) as resp:
                assert b"digest_up 1.0" in resp.read()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(10)
        if proc.stderr is not None:
            proc.stderr.close()
    before = next(i for i, line in enumerate(lines) if str(line["message"]).startswith("metrics: http://")) + 1
    # What came after the server started is the daemon's own work (its start, the collect job, the stop),
    # never a line of the scrapes: no request line, no schema read, no query.
    after = {str(line["logger"]) for line in lines[before:]}
    assert after <= {"digest.ops.daemon", "digest.collect.stage"}, lines[before:]


# -- what status, topics and history say --------------------------------------------------------------


def test_status_marks_the_sources_no_longer_in_digest_toml(tmp_path: Path, site: Site) -> None:
    collected = run_digest(tmp_path, "collect", toml=feed_toml(site))
    assert collected.returncode == 0, collected.stderr
    kept = run_digest(tmp_path, "status")
    assert "  Wire: last fetch " in kept.stdout and "no longer" not in kept.stdout
    other = site.add("/other.xml", RSS)
    done = run_digest(tmp_path, "status", toml=f'[[sources]]\nname = "Other"\nurl = "{other}"\n')
    assert done.returncode == 0, done.stderr
    assert "  Wire (no longer in digest.toml): last fetch " in done.stdout


def test_a_singular_topic_is_taken_like_its_plural_everywhere(tmp_path: Path) -> None:
    from subscribers.service import Audience

    added = run_digest(tmp_path, "subscribers", "add", "ann@example.org", "--topics", "trademark,Patent")
    assert added.returncode == 0, added.stderr
    (tmp_path / "readers.csv").write_text(
        "email,topics,confirmed_at\nbob@example.org,trademark,2025-01-02T09:00:00Z\n", encoding="utf-8"
    )
    imported = run_digest(tmp_path, "subscribers", "import", "readers.csv")
    assert imported.returncode == 0, imported.stderr
    listed = run_digest(tmp_path, "subscribers", "list").stdout.splitlines()
    assert sorted(line.split("\t")[-1] for line in listed) == ["patents,trademarks", "trademarks"]
    wrong = run_digest(tmp_path, "subscribers", "add", "cy@example.org", "--topics", "trademarkz")
    assert wrong.returncode == 2 and "unknown topic 'trademarkz'" in wrong.stderr
    assert Audience.known_topics(cast(Audience, _Topics()), ["Trademark", "nope"]) == [
        "trademarks"
    ]  # the sign-up form and the preferences page go through this


class _Topics:
    topics = ("patents", "trademarks", "copyright")


def test_history_lists_events_in_time_order(tmp_path: Path) -> None:
    (tmp_path / "readers.csv").write_text(
        "email,confirmed_at\nann@example.org,2024-05-06T07:08:09Z\n", encoding="utf-8"
    )
    assert run_digest(tmp_path, "subscribers", "import", "readers.csv").returncode == 0
    assert run_digest(tmp_path, "subscribers", "remove", "ann@example.org").returncode == 0
    doc = json.loads(run_digest(tmp_path, "subscribers", "show", "ann@example.org", "--json").stdout)
    times = [e["at"] for e in doc["history"]]
    assert doc["history"][0]["kind"] == "confirmed" and times[0].startswith("2024-05-06")
    assert times == sorted(times) and len(times) == 3
