"""Without SMTP, each issue's mail goes to that issue's own outbox folder, whichever issue is the newest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.facade import Digest
from digest.issue.compose import week_key
from digest.models import IssueStatus
from subscribers.model import NewSubscriber

from .support.data import article
from .support.smtp import read_eml
from .support.web import make_settings

W47 = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
W48 = W47 + timedelta(days=7)


def two_weeks(tmp_path: Path) -> tuple[Digest, str, str]:
    """W47 built and interrupted mid-send, then W48's draft built: the newest issue is not the one to finish."""
    d = Digest(make_settings(tmp_path))
    for n, when in ((1, W47), (2, W47), (3, W48), (4, W48)):
        assert d.db.articles.add(article(n, "patents", f"Patent ruling number {n}", when - timedelta(days=2)))
    first = d.build(W47)
    assert first.id is not None
    d.db.issues.set_status(first.id, IssueStatus.SENDING)  # as a send stopped half-way leaves it
    later = d.build(W48)
    assert (first.week, later.week) == (week_key(W47), week_key(W48)) and first.week != later.week
    assert d.current_issue().week == later.week
    d.subscribers.add_many([NewSubscriber("ann@example.com", "Ann"), NewSubscriber("bob@example.com", "Bob")])
    return d, first.week, later.week


def test_sending_an_earlier_issue_writes_its_own_folder(tmp_path: Path) -> None:
    d, w47, w48 = two_weeks(tmp_path)
    issue = d.db.issues.of_week(w47)
    assert issue is not None
    rep = d.deliver(issue)
    outbox = d.settings.outbox_dir
    assert rep.sent == 2
    assert sorted(p.name for p in (outbox / w47).glob("*.eml")) == ["ann@example.com.eml", "bob@example.com.eml"]
    assert not (outbox / w48).exists()
    assert read_eml(outbox / w47 / "ann@example.com.eml")["Subject"] == issue.subject
    assert d.transport(issue).describe() == f"outbox folder {outbox / w47}"


def test_previews_and_tests_of_a_draft_write_that_drafts_folder(tmp_path: Path) -> None:
    d, w47, w48 = two_weeks(tmp_path)
    draft = d.db.issues.of_week(w48)
    assert draft is not None
    preview = d.preview()
    assert d.send_test(["editor@example.com"], issue=draft) == 1
    outbox = d.settings.outbox_dir
    assert preview.html.parent == outbox / w48
    test = read_eml(outbox / w48 / "tests" / "editor@example.com.eml")
    assert str(test["Subject"]).strip() == "[TEST] " + draft.subject  # the email package may fold after the colon
    assert not (outbox / w47).exists()
