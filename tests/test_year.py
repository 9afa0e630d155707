"""Sixty weeks of a list's life on SQLite and PostgreSQL: sign-ups, imports, clicks, opens, bounces,
complaints, unsubscribes, erasures, retention and a schema upgrade, with the weekly job run each week and
every number checked against what the test itself did."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from digest.bounces.policy import BounceEvent, Policy
from digest.bounces.verp import DeliveryRef
from digest.config import PrivacyConfig, TrackingConfig
from digest.db.migrate import _config, _locked, state, upgrade_database
from digest.facade import Digest
from digest.models import Click, IssueStatus, NewArticle
from digest.ops.schedule import Schedule
from digest.ops.sender import Sender
from subscribers.model import Change, NewSubscriber

from .support.web import make_settings

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # a Monday
WEEKS = 60
UPGRADE_WEEK = 30


def _older_schema(d: Digest) -> None:
    """Take the database back to the revision before this release's, as an older install left it."""
    from alembic import command

    with _locked(d.db.engine) as conn:
        command.downgrade(_config(conn), "0007_outbox_index")
    assert state(d.db.engine).current == "0007_outbox_index"


@pytest.mark.slow
def test_sixty_weeks_of_the_weekly_job(tmp_path: Path, db_url: str) -> None:
    settings = replace(
        make_settings(tmp_path, database_url=db_url, bounce_address="bounces@example.org"),
        privacy=PrivacyConfig(keep_delivery_days=30, keep_consent_ip_days=60),
        tracking=TrackingConfig(clicks=True, opens=True, per_subscriber=True, retention_days=30),
    )
    d = Digest(settings)
    sender = Sender(d, Schedule.from_config(settings.schedule))
    expected: dict[str, str] = {}  # address → status the test expects
    erased: set[str] = set()
    sent_total = expected_total = 0
    n = 0
    for week in range(WEEKS):
        when = START + timedelta(weeks=week)
        with time_machine.travel(when - timedelta(days=2), tick=True):
            for i in range(3):  # the week's news
                n += 1
                d.db.articles.add(
                    NewArticle(
                        guid=f"g{n}",
                        url=f"https://news.example/{n}",
                        canonical_url=f"https://news.example/{n}",
                        title=f"Patent ruling number {n}",
                        source="News",
                        published=when - timedelta(days=2, hours=i),
                        summary="A court ruled on a patent.",
                        topics=("patents",),
                    )
                )
            signed = f"w{week}@example.org"  # a sign-up, confirmed
            sub, _ = d.subscribers.request(signed, "", ())
            assert d.subscribers.confirm(sub.id, "192.0.2.1")
            expected[signed] = "active"
            if week % 5 == 0:  # an import, with one address already there and one erased earlier
                rows = [NewSubscriber(f"i{week}-{k}@example.org") for k in range(4)]
                rows += [NewSubscriber(signed)] + [NewSubscriber(e) for e in sorted(erased)[:1]]
                skip = d.erased_among([r.email for r in rows])
                added = d.subscribers.add_many(r for r in rows if r.email not in skip)
                assert added == 4
                expected.update({r.email: "active" for r in rows[:4]})
        with time_machine.travel(when, tick=True):
            if week == UPGRADE_WEEK:
                d.close()
                d = Digest(settings)
                _older_schema(d)
                d.close()
                assert upgrade_database(settings.database_url).changed
                d = Digest(settings)
                sender = Sender(d, Schedule.from_config(settings.schedule))
            d.prune()  # what every collect does before the weekly issue
            d.forget_old_tracking()
            mailable = d.subscribers.mailable_count()
            assert mailable == sum(1 for s in expected.values() if s == "active")
            expected_total += mailable
            issue = d.build(when)
            outcomes = sender.send(issue)
            reports = [o.report for o in outcomes if o.report is not None]
            assert len(reports) == 1 and reports[0].sent == mailable and reports[0].failed == 0, outcomes[-1].text
            sent_total += reports[0].sent
            done = d.db.issues.get(issue.id)
            assert done is not None and done.status == IssueStatus.SENT
            assert d.db.feedback.issue(issue.id).sent == mailable
            assert d.db.deliveries.counts(issue.id) == {"sent": mailable}

        with time_machine.travel(when + timedelta(days=1), tick=True):
            active = list(d.subscribers.iter(status="active"))
            a, b, c = active[0], active[1], active[2]
            d.db.clicks.record(issue.id, Click(1, a.id, datetime.now(UTC)))
            d.db.clicks.record_open(issue.id, b.id, datetime.now(UTC))
            if week % 3 == 0:  # a hard bounce, by the VERP address of its delivery
                d.db.feedback.apply(
                    BounceEvent("mail", f"hb{week}", "hard", "5.1.1", "unknown", DeliveryRef(issue.id, a.id)), Policy()
                )
                expected[a.email] = "bounced"
            if week % 4 == 1:
                d.db.feedback.apply(
                    BounceEvent("mail", f"fb{week}", "complaint", "abuse", "", DeliveryRef(issue.id, b.id)), Policy()
                )
                expected[b.email] = "complained"
            if week % 4 == 2:
                assert d.subscribers.change_status(c.email, Change.UNSUBSCRIBE, "test")
                expected[c.email] = "unsubscribed"
            if week % 7 == 6:  # someone with a bounce or complaint on record asks to be forgotten
                gone = next(e for e, s in sorted(expected.items()) if s in ("bounced", "complained"))
                assert d.forget(gone)
                erased.add(gone)
                del expected[gone]
            counts = d.subscribers.counts()
            for status in ("active", "bounced", "complained", "unsubscribed"):
                assert counts.get(status, 0) == sum(1 for s in expected.values() if s == status), (week, status)
            assert feedback_matches(d, issue.id, week)

    assert sent_total == expected_total and sent_total >= WEEKS
    assert d.subscribers.by_email(sorted(erased)[0]) is None
    d.close()


def feedback_matches(d: Digest, issue_id: int, week: int) -> bool:
    """The issue's report counts this week's bounce and complaint, as the test made them."""
    fb = d.db.feedback.issue(issue_id)
    return (fb.bounces.hard, fb.complaints) == (int(week % 3 == 0), int(week % 4 == 1))
