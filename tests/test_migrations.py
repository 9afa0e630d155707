"""Schema revisions: databases made by earlier commits come up whole, the models match the migrations
(SQLite and PostgreSQL), commands stop on a database at another revision, one upgrader at a time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from digest.cli import cli
from digest.db import Database, make_engine
from digest.db import tables as t
from digest.db.migrate import SCRIPTS, Upgrade, head, include_name, state, upgrade, upgrade_database
from digest.errors import SchemaMismatch
from digest.models import DeliveryStatus, Feedback, IssueStatus
from subscribers.model import SubscriberStatus

from .support.data import ROOT
from .support.db import LEGACY, restore

STATES: dict[str, type[StrEnum]] = {
    "issues": IssueStatus,
    "deliveries": DeliveryStatus,
    "subscribers": SubscriberStatus,
}


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (APScheduler's and Alembic's aside), ordered by primary key (by every
    column where a table has none: the outcome log)."""
    out = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for name in insp.get_table_names():
            if name in ("scheduler_jobs", "alembic_version") or name.startswith("archive_search"):
                continue  # APScheduler's, Alembic's, and SQLite's full-text index (FTS5 and its shadow tables)
            key = insp.get_pk_constraint(name)["constrained_columns"] or [c["name"] for c in insp.get_columns(name)]
            order = ", ".join(key)
            out[name] = [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY {order}"))]
    return out


def differences(engine: Engine) -> list[Any]:
    """What autogenerate would write to bring the database to the models: nothing, when they agree."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        return list(compare_metadata(context, t.metadata))


def check_constraints(engine: Engine) -> dict[str, set[str]]:
    """ck_<table>_status -> the values it allows, as the database reports it."""
    out = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in STATES:
            for ck in insp.get_check_constraints(table):
                out[str(ck["name"])] = set(re.findall(r"'([a-z]+)'", ck["sqltext"]))
    return out


def assert_matches_models(engine: Engine) -> None:
    assert differences(engine) == []
    expected = {f"ck_{table}_status": {s.value for s in enum} for table, enum in STATES.items()}
    expected["ck_deliveries_feedback"] = {f.value for f in Feedback}
    assert check_constraints(engine) == expected
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in t.metadata.sorted_tables:
            assert {c.name for c in table.columns} <= {c["name"] for c in insp.get_columns(table.name)}


# -- databases made by earlier commits ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_a_database_made_by_an_earlier_commit_comes_up_whole(name: str, tmp_path: Path) -> None:
    url = f"sqlite:///{restore(name, tmp_path)}"
    engine = make_engine(url)
    before = snapshot(engine)
    assert before["subscribers"] and before["articles"] and before["issues"] and before["deliveries"]
    with pytest.raises(SchemaMismatch, match="run `digest db upgrade`"):
        Database(url)

    done = upgrade(engine)
    assert done.before.legacy == LEGACY[name] and done.before.current is None and done.after == head()
    assert state(engine).at_head
    after = snapshot(engine)
    # The schema_version row is what the revision stamp replaces; every other row is kept, value for value.
    before["meta"] = [r for r in before["meta"] if r["key"] != "schema_version"]
    # 0013_archive copies the stories of sent issues into the archive and notes their numbers are to do.
    after["meta"] = [r for r in after["meta"] if r["key"] != "archive_numbers"]
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            assert {k: new[k] for k in old} == old, table
    assert_matches_models(engine)

    store = Database(url)
    assert store.articles.count() == len(after["articles"]) == 8
    assert {r["words"] for r in after["articles"]} == {0}  # length not known: no reading time shown
    if name in ("v2_editors", "v3"):
        assert [r["value"] for r in after["issue_edits"] if r["kind"] == "subject"] == ["Fixture subject"]
    store.close()
    engine.dispose()


def test_revisions_write_their_operations_out() -> None:
    for script in (SCRIPTS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) (digest|subscribers)\b", source, re.M), script.name


# -- models against migrations, on a new database -----------------------------------------------


def test_a_new_sqlite_database_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/new.db")
    done = upgrade(engine)
    assert done.before.empty and done.changed and done.after == head()
    assert_matches_models(engine)
    with engine.begin() as conn, pytest.raises(IntegrityError, match=r"ck_issues_status|CHECK"):
        conn.execute(
            text(
                "INSERT INTO issues (week, status, subject, preheader, period_start, period_end, "
                "content, built_at) VALUES ('2026-W01', 'drafted', '', '', '2026-01-01', "
                "'2026-01-01', '', '2026-01-01')"
            )
        )
    engine.dispose()


@pytest.mark.postgres
def test_a_new_postgresql_database_matches_the_models(pg_url: str) -> None:
    engine = create_engine(pg_url)
    assert upgrade(engine).before.empty
    assert_matches_models(engine)
    with engine.begin() as conn, pytest.raises(IntegrityError, match="ck_subscribers_status"):
        conn.execute(
            text(
                "INSERT INTO subscribers (email, name, topics, status, paused, created_at) "
                "VALUES ('a@example.org', '', '', 'activ', false, now())"
            )
        )
    engine.dispose()


# -- one upgrader at a time ---------------------------------------------------------------------


def _at_once(n: int, work: Callable[[], Upgrade]) -> list[Upgrade]:
    start = threading.Barrier(n)
    results: list[Upgrade] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    return results


def test_two_upgraders_of_one_sqlite_database_do_not_collide(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v1', tmp_path)}"
    results = _at_once(2, lambda: upgrade_database(url))
    assert sorted(r.changed for r in results) == [False, True]
    assert_matches_models(make_engine(url))


def test_two_processes_opening_a_new_sqlite_database_both_find_it_made(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    stores: list[Database] = []
    start = threading.Barrier(2)

    def open_store() -> None:
        start.wait()
        stores.append(Database(url))

    threads = [threading.Thread(target=open_store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(stores) == 2 and all(state(s.engine).at_head for s in stores)
    for s in stores:
        s.close()


@pytest.mark.postgres
def test_two_upgraders_of_one_postgresql_database_do_not_collide(pg_url: str) -> None:
    results = _at_once(2, lambda: upgrade_database(pg_url))
    assert sorted(r.changed for r in results) == [False, True]
    engine = create_engine(pg_url)
    assert_matches_models(engine)
    engine.dispose()


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def v3_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The working directory holds a database made before revisions (schema version 3)."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{restore('v3', tmp_path)}"
    monkeypatch.setenv("DIGEST_DATABASE_URL", url)
    return url


def test_a_command_on_a_database_behind_stops_with_the_command_that_fixes_it(v3_here: str) -> None:
    runner = CliRunner()
    stopped = runner.invoke(cli, ["subscribers", "list"])
    assert stopped.exit_code == 2 and "run `digest db upgrade`" in stopped.stderr
    current = runner.invoke(cli, ["db", "current"])
    assert current.exit_code == 0 and "schema version 3" in current.stdout and "digest db upgrade" in current.stdout

    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"from schema version 3 (made before schema revisions) to revision {head()}" in upgraded.stdout
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and "nothing to do" in again.stdout
    current = runner.invoke(cli, ["db", "current"])
    assert current.exit_code == 0 and current.stdout.strip() == f"db: revision {head()} (head)"
    listed = runner.invoke(cli, ["subscribers", "list"])
    assert listed.exit_code == 0 and "a@example.org" in listed.stdout


def test_a_database_upgraded_by_a_newer_version_is_left_alone(v3_here: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    engine = create_engine(v3_here)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    for command in (["subscribers", "list"], ["db", "upgrade"]):
        stopped = runner.invoke(cli, command)
        assert stopped.exit_code == 2, command
        assert "upgraded by a newer ip-digest; install it" in stopped.stderr
    current = runner.invoke(cli, ["db", "current"])
    assert current.exit_code == 0 and "0099_from_the_future, ahead" in current.stdout


def test_db_commands_have_help_with_an_example() -> None:
    for command in (["db"], ["db", "upgrade"], ["db", "current"]):
        shown = CliRunner().invoke(cli, [*command, "--help"])
        assert shown.exit_code == 0 and "Example:" in shown.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["daemon"]])
def test_serve_and_daemon_upgrade_the_database_when_they_start(
    command: list[str], v3_here: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "DIGEST_SECRET_KEY": "test"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest", *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        # The daemon's first collect runs once its scheduler is running (a SIGTERM before that is not heard).
        started = "serve: http" if command[0] == "serve" else "job collect:"
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if started in line:
                break
        assert started in "".join(lines), "".join(lines)
        engine = make_engine(v3_here)
        assert state(engine).at_head
        engine.dispose()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_an_older_database_takes_complaints_and_feedback_after_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v3', tmp_path)}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE subscribers SET status = 'complained' WHERE id = (SELECT min(id) FROM subscribers)"))
        conn.execute(text("UPDATE deliveries SET feedback = 'hard', feedback_code = '5.1.1'"))
        conn.execute(
            text(
                "INSERT INTO feedback_events (source, key, kind, received_at) "
                "VALUES ('mail', '<a@b>', 'hard', '2026-11-30')"
            )
        )
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text(
                "INSERT INTO feedback_events (source, key, kind, received_at) "
                "VALUES ('mail', '<a@b>', 'soft', '2026-11-30')"
            )
        )
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE deliveries SET feedback = 'bounced'"))
    engine.dispose()


def test_the_head_every_open_compares_with_is_alembics_head() -> None:
    """migrate.HEAD lets an open skip loading Alembic; it must name the newest revision in versions/."""
    from digest.db import migrate

    assert migrate.head() == migrate.HEAD


def test_an_older_database_gets_the_jurisdictions_of_its_articles_read_after_the_upgrade(tmp_path: Path) -> None:
    """0008: stored articles come up with their jurisdictions unread (NULL) and the next build reads them
    from the stored title, summary and source; subscribers come up with none chosen (every jurisdiction)."""
    from digest.config import Settings
    from digest.facade import Digest

    url = f"sqlite:///{restore('v3', tmp_path)}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE articles SET title = 'Federal Circuit rules' WHERE id = (SELECT min(id) FROM articles)")
        )
        assert conn.execute(text("SELECT count(*) FROM articles WHERE jurisdictions IS NULL")).scalar_one() == 8
        assert {r[0] for r in conn.execute(text("SELECT jurisdictions FROM subscribers"))} == {""}
    engine.dispose()
    d = Digest(Settings(database_url=url, secret_key="k", outbox_dir=tmp_path))
    assert d.db.articles.unread() and d.read_jurisdictions() == 8
    assert d.db.articles.unread() == [] and d.read_jurisdictions() == 0
    with d.db.engine.begin() as conn:
        first = conn.execute(text("SELECT jurisdictions FROM articles ORDER BY id LIMIT 1")).scalar_one()
        assert conn.execute(text("SELECT count(*) FROM articles WHERE jurisdictions IS NULL")).scalar_one() == 0
    assert first.split(",")[0] == "us"  # the title, then what the summary names
    assert all(s.jurisdictions == frozenset() for s in d.subscribers.iter())
    d.close()


def test_a_database_before_bounce_reasons_keeps_its_feedback_and_takes_reasons(tmp_path: Path) -> None:
    """0008_bounce_reasons on an older database: its deliveries keep their feedback with no reason (which
    still counts toward the soft limit), and new feedback stores its reason, provider and code."""
    from digest.bounces.policy import counts_soft

    engine = make_engine(f"sqlite:///{restore('v3', tmp_path)}")
    upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM deliveries WHERE feedback_reason IS NOT NULL")).scalar() == 0
        conn.execute(text("UPDATE deliveries SET feedback = 'soft', feedback_code = '4.2.2'"))  # as before 0008
        reasons = conn.execute(text("SELECT DISTINCT feedback, feedback_reason FROM deliveries")).all()
        conn.execute(
            text(
                "INSERT INTO feedback_events (source, key, kind, received_at, reason, provider, code) "
                "VALUES ('mail', '<r@b>', 'sender', '2026-12-03', 'blocked', 'gmail.com', '5.7.1')"
            )
        )
        kept = conn.execute(text("SELECT reason, provider, code FROM feedback_events WHERE key = '<r@b>'")).one()
    assert [tuple(r) for r in reasons] == [("soft", None)] and counts_soft(None)
    assert tuple(kept) == ("blocked", "gmail.com", "5.7.1")
    assert state(engine).at_head
    engine.dispose()
