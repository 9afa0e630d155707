"""What the commands tell an operator: read-only commands leave no database behind, a command that could not
do its job exits non-zero, and `-q` keeps cron quiet. Real child processes, real SQLite, a loopback SMTP
server and a loopback feed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


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
