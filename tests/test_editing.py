from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from digest.cli import cli
from digest.config import Settings, SourceConfig
from digest.db import Database
from digest.db.labels import TopicLabel
from digest.db.migrate import state, upgrade_database
from digest.errors import SchemaMismatch, UsageError
from digest.facade import Digest
from digest.issue.checks import check_subject
from digest.issue.editing import ACTIONS, perform
from digest.models import Article, Edit

from .support.data import ROOT
from .support.db import restore

NOW = datetime.now(UTC)


def art(i: int, title: str, topic: str) -> Article:
    return Article(
        id=i,
        guid=f"g{i}",
        url=f"https://n.example/{i}",
        canonical_url=f"https://n.example/{i}",
        title=title,
        source="Wire",
        published=NOW - timedelta(hours=i),
        summary=f"Lead {i}.",
        topics=(topic,),
    )


@pytest.fixture
def digest(tmp_path: Path) -> Digest:
    d = Digest(Settings(database_url=f"sqlite:///{tmp_path}/d.db", sources=(SourceConfig("x", "x"),)))
    for i, (title, topic) in enumerate(
        [
            ("Patent verdict", "patents"),
            ("Garden-ish patent story", "patents"),
            ("Fake watches seized", "counterfeits"),
        ],
        start=1,
    ):
        d.db.articles.add(art(i, title, topic))
    d.build()
    return d


def ids(d: Digest) -> list[int | None]:
    return [a.id for a in d.draft().articles]


def test_edits_apply_and_survive_a_rebuild(digest: Digest) -> None:
    digest.edit(_e("exclude", "2"))
    digest.edit(_e("summary", "1", "Tightened summary."))
    digest.edit(_e("pin", "3"))
    issue = digest.edit(_e("title", "3", "Customs seize fake watches"))
    assert [s.topic for s in issue.sections] == ["counterfeits", "patents"]
    assert ids(digest) == [3, 1]
    assert "Customs seize fake watches" in issue.subject
    digest.db.articles.add(art(9, "New patent story", "patents"))
    rebuilt = digest.build()
    assert [a.id for a in rebuilt.articles] == [3, 1, 4]
    assert rebuilt.sections[1].articles[0].summary == "Tightened summary."
    restored = digest.edit(clear=("exclude", "2"))
    assert 2 in [a.id for a in restored.articles]


def test_order_subject_and_preheader(digest: Digest) -> None:
    digest.edit(_e("order", value="counterfeits,patents"))
    digest.edit(_e("subject", value="The fakes issue"))
    issue = digest.edit(_e("preheader", value="Customs and courts"))
    assert [s.topic for s in issue.sections] == ["counterfeits", "patents"]
    assert (issue.subject, issue.preheader) == ("The fakes issue", "Customs and courts")
    assert digest.edit(clear=("subject", "")).subject.startswith("IP Protection Weekly")


def test_unknown_article_is_a_usage_error(digest: Digest) -> None:
    with pytest.raises(UsageError, match="not in issue"):
        digest.edit(_e("exclude", "999"))


def test_checks_flag_long_or_shouting_subjects(digest: Digest) -> None:
    findings = {f.check: f for f in digest.check()}
    assert all(f.level == "ok" for f in findings.values()), findings
    assert [f.level for f in check_subject("x" * 79)] == ["warning"]
    assert [f.level for f in check_subject("HUGE PATENT NEWS THIS WEEK")] == ["warning"]
    both = check_subject("HUGE PATENT NEWS THIS WEEK: EVERY COURT, EVERY OFFICE, EVERY RAID AND EVERY SEIZURE")
    assert [f.level for f in both] == ["warning", "warning"]
    assert "characters" in both[0].message and "capitals" in both[1].message


def test_cli_issue_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    runner = CliRunner()
    shown = runner.invoke(cli, ["issue", "show"])
    assert shown.exit_code == 0 and "Patent verdict" in shown.output
    excluded = runner.invoke(cli, ["issue", "exclude", "1"])
    sections = excluded.output.split("\nissue ")[1].split("\nexcluded")[0]
    assert excluded.exit_code == 0 and "Patent verdict" not in sections
    assert runner.invoke(cli, ["issue", "check"]).exit_code == 0
    assert runner.invoke(cli, ["issue", "exclude", "77"]).exit_code == 2


def test_the_cli_says_what_an_edit_changed_and_lists_the_excluded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest
) -> None:
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    runner = CliRunner()
    title = next(a.title for a in digest.draft().articles if a.id == 1)
    excluded = runner.invoke(cli, ["issue", "exclude", "1"])
    assert excluded.exit_code == 0, excluded.output
    assert f"changed:\n  left out #1: {title}" in excluded.output
    shown = runner.invoke(cli, ["issue", "show"]).output
    assert shown.split("\nexcluded")[1].strip().startswith(f"1  {title}")
    again = runner.invoke(cli, ["issue", "exclude", "1"])
    assert again.exit_code == 0 and again.output.startswith("nothing changed") and "left out" not in again.output
    subject = runner.invoke(cli, ["issue", "subject", "Fakes and verdicts"])
    assert "subject: " in subject.output and "-> 'Fakes and verdicts'" in subject.output
    restored = runner.invoke(cli, ["issue", "restore", "1"])
    assert f"brought back #1: {title}" in restored.output
    assert "excluded: none" in runner.invoke(cli, ["issue", "show"]).output


def test_an_unknown_topic_is_a_usage_error_that_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    runner = CliRunner()
    for args in (["preview", "--topics", "foo"], ["issue", "check", "--topics", "patents,foo"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "unknown topic 'foo'" in result.output and "patents" in result.output
    assert runner.invoke(cli, ["preview", "--topics", "patents"]).exit_code == 0


def test_a_long_shouting_subject_gets_both_warnings_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest
) -> None:
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    runner = CliRunner()
    shout = "HUGE PATENT NEWS THIS WEEK: EVERY COURT, EVERY OFFICE, EVERY RAID AND EVERY SEIZURE"
    assert runner.invoke(cli, ["issue", "subject", shout]).exit_code == 0
    out = runner.invoke(cli, ["issue", "check"]).output
    assert "warning  subject: 83 characters" in out and "warning  subject: mostly capitals" in out


def test_every_editing_action_is_a_command_with_its_arguments_and_an_example() -> None:
    group = cli.get_command(click.Context(cli), "issue")
    assert isinstance(group, click.Group)
    for name, action in ACTIONS.items():
        command = group.commands[name]
        wanted = [p.name for p in (action.target, action.value) if p is not None]
        assert [p.name for p in command.params] == wanted, name
        assert command.help and action.example in command.help and "Example:" in command.help


def test_the_cli_moves_sections_unpins_and_resets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest
) -> None:
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    runner = CliRunner()
    assert [s.topic for s in digest.draft().sections] == ["patents", "counterfeits"]
    moved = runner.invoke(cli, ["issue", "move", "counterfeits", "up"])
    assert moved.exit_code == 0, moved.output
    assert [s.topic for s in digest.draft().sections] == ["counterfeits", "patents"]
    assert runner.invoke(cli, ["issue", "move", "patents", "sideways"]).exit_code == 2
    assert runner.invoke(cli, ["issue", "pin", "2"]).exit_code == 0
    assert digest.draft().articles[0].id == 2
    assert runner.invoke(cli, ["issue", "unpin"]).exit_code == 0
    assert runner.invoke(cli, ["issue", "subject", "A custom subject"]).exit_code == 0
    assert digest.draft().subject == "A custom subject"
    assert runner.invoke(cli, ["issue", "reset", "subject"]).exit_code == 0
    assert digest.draft().subject.startswith("IP Protection Weekly")
    assert {e.kind for e in digest.db.issues.edits(digest.draft().week)} == {"order"}


def test_actions_check_their_inputs_and_say_what_is_wrong(digest: Digest) -> None:
    for name, target, value, problem in [
        ("exclude", "", "", "needs ARTICLE"),
        ("exclude", "two", "", "ARTICLE must be the article's number"),
        ("move", "designs", "up", "not a section of issue"),
        ("move", "patents", "left", "one of up, down"),
        ("subject", "", "x" * 301, "at most 300 characters"),
        ("reset", "everything", "", "KIND must be one of"),
        ("rename", "1", "x", "no edit called 'rename'"),
    ]:
        with pytest.raises(UsageError, match=problem):
            perform(digest, name, target, value)
    assert digest.db.issues.edits(digest.draft().week) == []


def test_an_empty_text_clears_the_override_and_spaces_are_collapsed(digest: Digest) -> None:
    issue = perform(digest, "title", "1", "  A  tighter\n title ")
    assert issue.sections[0].articles[0].title == "A tighter title"
    assert perform(digest, "title", "1", " ").sections[0].articles[0].title == "Patent verdict"
    assert perform(digest, "order", value=" counterfeits , patents,").sections[0].topic == "counterfeits"
    assert digest.db.issues.edits(digest.draft().week) == [Edit("order", value="counterfeits,patents")]


def _e(kind: str, target: str = "", value: str = "") -> Edit:
    return Edit(kind=kind, target=target, value=value)


def test_a_version_2_database_gains_the_edits_table_without_loss(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v2_outbox', tmp_path)}"  # made by the outbox branch: no issue_edits
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscribers (email, name, topics, status, paused, created_at) "
                "VALUES ('ann@example.com', 'Ann', '', 'active', 0, '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    with pytest.raises(SchemaMismatch, match="digest db upgrade"):
        Database(url)
    upgrade_database(url)
    store = Database(url)
    with store.begin() as conn:
        assert state(store.engine).at_head
        assert "ann@example.com" in conn.execute(text("SELECT email FROM subscribers")).scalars().all()
    store.issues.set_edit("2026-W49", _e("subject", value="S"))
    assert store.issues.edits("2026-W49")[0].value == "S"


def test_an_article_excluded_as_off_topic_is_kept_as_a_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    runner = CliRunner()
    done = runner.invoke(cli, ["issue", "exclude", "2", "--reason", "Off-topic"])
    assert done.exit_code == 0, done.output
    assert "left out #2: Garden-ish patent story" in done.output
    assert runner.invoke(cli, ["issue", "exclude", "3", "--reason", "covered last week"]).exit_code == 0
    perform(digest, "restore", "2")
    perform(digest, "exclude", "2", "off topic")  # excluded again: still one label
    [label] = digest.db.topic_labels.all()
    assert (label.article_id, label.title, label.lead, label.source, label.scope) == (
        2,
        "Garden-ish patent story",
        "Lead 2.",
        "Wire",
        "general",
    )
    assert label.week == digest.draft().week and label.reason == "Off-topic"
    perform(digest, "restore", "2")
    assert 2 in ids(digest) and len(digest.db.topic_labels.all()) == 1  # the label outlives the exclusion

    bench = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "topics.py"),
            "--editor-labels",
            "--database",
            digest.settings.database_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1 articles editors excluded as off topic" in bench.stdout
    assert "editor labels: 1 entries" in bench.stdout and "in the issue: precision" in bench.stdout


def test_an_upgraded_older_database_keeps_labels(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v3', tmp_path)}"
    upgrade_database(url)
    db = Database(url)
    label = TopicLabel("2026-W49", 7, "Pirates hijack a tanker", "The crew is held.", "Wire", "ip", "off topic", NOW)
    assert db.topic_labels.add(label) and not db.topic_labels.add(label)
    assert [x.title for x in db.topic_labels.all()] == ["Pirates hijack a tanker"]
    db.close()


def test_an_editors_preheader_goes_only_to_readers_who_get_the_stories_it_speaks_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: Digest
) -> None:
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    digest.subscribers.add("all@example.org")
    digest.subscribers.add("fakes@example.org", topics=("counterfeits",))
    digest.subscribers.add("patents@example.org", topics=("patents",))
    text = "A patent verdict and fake watches seized"
    result = CliRunner().invoke(cli, ["issue", "preheader", "--stories", "1,3", text])
    assert result.exit_code == 0, result.output
    draft = digest.draft()
    assert draft.preheader_about == (1, 3)
    whole = digest.renderer.render(draft)
    patents = digest.renderer.render(draft, frozenset({"patents"}))
    fakes = digest.renderer.render(draft, frozenset({"counterfeits"}))
    assert whole and patents and fakes
    assert whole.preheader == text and f"{text}." in whole.text  # the email's opening line
    assert patents.preheader == "2 stories this week: Patents (2)" and text not in patents.html + patents.text
    assert fakes.preheader == "1 story this week: Counterfeits & enforcement (1)"
    told = result.output.split("who gets which preheader:")[1]
    assert f"1 readers (every topic), the editor's: {text}" in told
    assert "1 readers (patents), their own: 2 stories this week: Patents (2)" in told
    assert "1 readers (counterfeits), their own: 1 story" in told
    assert CliRunner().invoke(cli, ["issue", "preheader", "--stories", "1,99", text]).exit_code == 2
    assert CliRunner().invoke(cli, ["issue", "preheader", "--stories", "one", text]).exit_code == 2


def test_a_preheader_that_names_no_stories_speaks_of_the_whole_issue(digest: Digest) -> None:
    digest.edit(Edit("preheader", "", "Everything this week"))
    draft = digest.draft()
    assert digest.renderer.render(draft) is not None
    assert digest.renderer.render(draft).preheader == "Everything this week"  # type: ignore[union-attr]
    only = digest.renderer.render(draft, frozenset({"counterfeits"}))
    assert only is not None and only.preheader != "Everything this week"
    digest.edit(Edit("preheader", "3", "Fake watches seized in the port"))
    only = digest.renderer.render(digest.draft(), frozenset({"counterfeits"}))
    assert only is not None and only.preheader == "Fake watches seized in the port"
