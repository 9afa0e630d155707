"""The one send path: resume before anything else, the gates, the lease, and Send now in the background."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from digest.cli import cli
from digest.db import tables as t
from digest.delivery.outbox import SendOptions
from digest.facade import Digest
from digest.ops.schedule import Schedule, last_send_time
from digest.ops.sender import BackgroundSend, Sender

from .support.data import add_article, add_subscribers
from .support.sending import schedule_settings
from .support.smtp import Sink

WEEK_1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
WEEK_2 = WEEK_1 + timedelta(days=7)


@pytest.fixture
def digest(tmp_path: Path, smtp_sink: Sink) -> Iterator[Digest]:
    d = Digest(schedule_settings(tmp_path, f"sqlite:///{tmp_path / 'digest.db'}", smtp_sink.port))
    yield d
    d.close()


def sender(d: Digest, **policy: object) -> Sender:
    """A sender whose clock is an hour after the last scheduled send time (inside the approval grace)."""
    schedule = Schedule.from_config(schedule_settings(Path("."), "", None, **policy).schedule)
    send_time = last_send_time(schedule, datetime.now(UTC))
    assert send_time is not None
    return Sender(d, schedule, "test-host:1:a", clock=lambda: send_time + timedelta(hours=1))


def subjects_by_reader(sink: Sink) -> Counter[tuple[str, str]]:
    return Counter((rcpt, str(msg["Subject"])) for _, rcpts, msg in sink.messages for rcpt in rcpts)


def test_an_interrupted_week_is_finished_before_the_next_is_sent(digest: Digest, smtp_sink: Sink) -> None:
    readers = add_subscribers(digest, 5)
    add_article(digest, 1, WEEK_1 - timedelta(days=1))
    first = digest.build(WEEK_1)
    stopper = Sender(
        digest,
        Schedule.from_config(digest.settings.schedule),
        "test-host:1:a",
        should_stop=lambda: len(smtp_sink.messages) >= 2,
    )
    [stopped] = stopper.send(first, options=SendOptions(concurrency=1))
    assert stopped.report is not None and stopped.report.stopped and len(smtp_sink.messages) == 2

    add_article(digest, 2, WEEK_2 - timedelta(days=1))
    second = digest.build(WEEK_2)
    assert second.week != first.week
    outcomes = sender(digest).send(second)

    assert [o.week for o in outcomes] == [first.week, second.week]
    got = subjects_by_reader(smtp_sink)
    assert len({s for _, s in got}) == 2  # two issues went out
    assert sorted(got.values()) == [1] * 10  # each reader got each issue once
    assert sorted({r for r, _ in got}) == sorted(readers)
    assert {i.status for i in digest.db.issues.with_status(("sending", "sent"))} == {"sent"}


def test_digest_run_resumes_an_earlier_week_even_when_this_week_has_nothing(
    tmp_path: Path, digest: Digest, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_subscribers(digest, 3)
    add_article(digest, 1, datetime.now(UTC) - timedelta(days=9))
    first = digest.build(datetime.now(UTC) - timedelta(days=7))
    Sender(
        digest,
        Schedule.from_config(digest.settings.schedule),
        "test-host:1:a",
        should_stop=lambda: len(smtp_sink.messages) >= 1,
    ).send(first, options=SendOptions(concurrency=1))
    assert len(smtp_sink.messages) == 1
    (tmp_path / "digest.toml").write_text(
        '[newsletter]\ntitle = "T"\nsender = "T <t@example.org>"\n'
        'base_url = "https://digest.example.org"\n'
        '[[sources]]\nname = "Quiet"\nurl = "quiet.xml"\n'
    )
    (tmp_path / "quiet.xml").write_text('<rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    monkeypatch.chdir(tmp_path)
    env = {
        "DIGEST_DATABASE_URL": digest.settings.database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_SECURITY": "none",
    }
    result = CliRunner().invoke(cli, ["run"], env=env)
    assert result.exit_code == 0, result.output
    assert "no issue this week" in result.output
    assert f"send: issue {first.week}: messages: 2 sent" in result.output
    assert sorted(subjects_by_reader(smtp_sink).values()) == [1, 1, 1]


def test_an_unapproved_draft_is_held_whoever_sends_it(digest: Digest, smtp_sink: Sink) -> None:
    add_subscribers(digest, 2)
    add_article(digest, 1, datetime.now(UTC) - timedelta(days=1))
    draft = digest.build()
    [held] = sender(digest, require_approval=True, editors=("e@example.org",), build="fri 12:00").send()
    assert "not approved yet" in held.text and held.retry_at is not None and held.report is None
    assert smtp_sink.messages == []
    digest.db.issues.approve(draft.id)
    [sent] = sender(digest, require_approval=True, editors=("e@example.org",), build="fri 12:00").send()
    assert sent.report is not None and sent.report.sent == 2


def test_a_thin_draft_is_skipped_by_every_sender(digest: Digest, smtp_sink: Sink) -> None:
    add_subscribers(digest, 2)
    add_article(digest, 1, datetime.now(UTC) - timedelta(days=1))
    digest.build()
    [skipped] = sender(digest, min_articles=3).send()
    assert "fewer than min_articles = 3" in skipped.text and smtp_sink.messages == []


def test_send_now_runs_in_the_background_under_the_lease_and_approves(digest: Digest, smtp_sink: Sink) -> None:
    add_subscribers(digest, 4)
    add_article(digest, 1, datetime.now(UTC) - timedelta(days=1))
    draft = digest.build()
    sends = BackgroundSend(lambda: sender(digest, require_approval=True, editors=("e@example.org",), build="fri 12:00"))
    sends.start(draft.week)
    assert sends.wait(60)
    status = sends.status()
    assert status is not None and status.finished and status.error is None, status
    assert (status.done, status.total) == (4, 4)
    assert digest.db.issues.approved_at(draft.id) is not None  # the editor's "send now" approves it
    assert len(smtp_sink.messages) == 4


def test_send_now_leaves_an_issue_another_process_is_sending(digest: Digest, smtp_sink: Sink) -> None:
    add_subscribers(digest, 2)
    add_article(digest, 1, datetime.now(UTC) - timedelta(days=1))
    draft = digest.build()
    with digest.db.begin() as conn:  # a live sender elsewhere holds the lease
        conn.execute(
            update(t.issues)
            .where(t.issues.c.id == draft.id)
            .values(lease_owner="other-host:4242:b", lease_until=datetime.now(UTC) + timedelta(minutes=5))
        )
    sends = BackgroundSend(lambda: sender(digest))
    sends.start(draft.week)
    assert sends.wait(60)
    status = sends.status()
    assert status is not None and status.finished
    assert "being sent by other-host:4242:b" in status.text
    assert smtp_sink.messages == []
