"""The report of a sent issue in the editor's pages and as CSV; the same numbers as `digest report`."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from digest.cli import cli
from digest.config import ScheduleConfig
from digest.models import Click
from digest.ops.reports import as_rows, issue_report
from digest.ops.schedule import Schedule
from digest.ops.sender import Sender
from subscribers.model import NewSubscriber

from .support.admin import admin_app, login
from .support.data import sample_issue
from .support.web import digest_of, make_settings


def test_the_editor_sees_each_sent_issues_report_and_downloads_it_as_csv(tmp_path: Path) -> None:
    app = admin_app(make_settings(tmp_path))
    d = digest_of(app)
    issue = d.db.issues.save_draft(sample_issue())
    d.subscribers.add_many([NewSubscriber(f"reader{i}@example.org") for i in range(6)])
    Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
    with d.db.begin() as conn:  # as after a deferral, and a 5xx
        conn.execute(text("UPDATE deliveries SET attempts = 2 WHERE id = 1"))
        conn.execute(text("UPDATE deliveries SET status = 'failed', reply_code = 550 WHERE id = 2"))
        conn.execute(text("UPDATE deliveries SET feedback = 'complaint' WHERE id = 3"))  # a feedback loop's report
    d.db.clicks.record_open(issue.id, None, datetime.now(UTC))  # a fetch of the open image (opens were on)
    client = app.test_client()
    assert client.get("/admin/issues/2025-W10").status_code == 302  # to the login
    login(client)

    listing = client.get("/admin/issues").get_data(as_text=True)
    assert 'href="/admin/issues/2025-W10"' in listing and "not tracked" in listing
    page = client.get("/admin/issues/2025-W10").get_data(as_text=True)
    assert 'data-key="delivered">5<' in page and 'data-key="retried">1<' in page
    assert 'data-key="refused">1<' in page and "Clicks are not tracked" in page
    assert issue_report(d, issue).complaints == 1
    assert 'data-key="opens">1<' in page and "Apple Mail Privacy Protection" in page
    assert client.get("/admin/issues/2099-W01").status_code == 404

    got = client.get("/admin/issues/2025-W10.csv")
    assert got.mimetype == "text/csv" and "report-2025-W10.csv" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True))))
    assert rows[0] == ["issue", "section", "name", "value"]
    refreshed = d.db.issues.get(issue.id)
    assert refreshed is not None
    assert rows[1:] == [["2025-W10", s, n, str(v)] for s, n, v in as_rows(issue_report(d, refreshed))]
    assert ["2025-W10", "delivery", "failed", "1"] in rows


def test_the_dashboard_draws_its_charts_as_svg_before_any_issue_is_sent(tmp_path: Path) -> None:
    app = admin_app(make_settings(tmp_path))
    client = app.test_client()
    login(client)
    page = client.get("/admin/dashboard").get_data(as_text=True)
    assert page.count("<svg") == 2 and "<script" not in page
    assert "Subscribers per week" in page and "No issue has been sent yet" in page


def test_axis_tops_are_round() -> None:
    from digest.ops.charts import nice_max

    assert [nice_max(v) for v in (0, 1, 3, 7, 12, 49, 51, 180)] == [1, 1, 5, 10, 20, 50, 100, 200]


def test_an_article_in_two_sections_is_one_article_and_bounces_are_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Story 0 sits in both sections and was clicked 7 times, story 6 (another source) twice: 9 clicks in all,
    per source as per article. `digest status` and `digest report` give the same bounces, named by kind."""
    settings = make_settings(tmp_path)
    app = admin_app(settings)
    d = digest_of(app)
    plain = sample_issue()
    patents, trademarks = plain.sections
    shared = patents.articles[0]
    other = replace(trademarks.articles[0], source="Marks Daily")
    both = replace(
        plain,
        sections=(patents, replace(trademarks, articles=(shared, other, *trademarks.articles[1:]))),
    )
    issue = d.db.issues.save_draft(both)
    d.subscribers.add_many([NewSubscriber(f"reader{i}@example.org") for i in range(6)])
    Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
    later = datetime.now(UTC) + timedelta(minutes=5)
    for n, article in enumerate([shared.id] * 7 + [other.id] * 2):
        d.db.clicks.record(issue.id, Click(article, None, later + timedelta(minutes=n)))
    with d.db.begin() as conn:  # one refused at send, one hard and one soft bounce reported after delivery
        conn.execute(text("UPDATE deliveries SET status = 'failed', reply_code = 550 WHERE id = 1"))
        conn.execute(text("UPDATE deliveries SET feedback = 'hard' WHERE id = 2"))
        conn.execute(text("UPDATE deliveries SET feedback = 'soft' WHERE id = 3"))

    rep = issue_report(d, issue)
    assert sorted(a.article_id for a in rep.articles) == sorted({a.id for a in both.articles})
    assert rep.clicks == 9 and sum(rep.per_source.values()) == 9 == sum(a.clicks for a in rep.articles)
    assert rep.per_source == {"IP Wire": 7, "Marks Daily": 2}
    assert rep.per_topic == {"Patents": 7, "Trademarks": 9}  # story 0 counts in both of its sections
    assert next(a for a in rep.articles if a.article_id == shared.id).topics == ("Patents", "Trademarks")

    monkeypatch.chdir(tmp_path)
    env = {"DIGEST_DATABASE_URL": settings.database_url, "DIGEST_SECRET_KEY": "a test key, not a secret"}
    as_json = json.loads(CliRunner().invoke(cli, ["report", issue.week, "--json"], env=env).output)
    assert len({a["article_id"] for a in as_json["articles"]}) == len(as_json["articles"]) == len(both.articles)
    assert sum(as_json["per_source"].values()) == as_json["clicks"] == 9
    assert as_json["bounces"] == {"refused": 1, "hard": 1, "soft": 1}
    rows = list(csv.reader(io.StringIO(CliRunner().invoke(cli, ["report", issue.week, "--csv"], env=env).output)))
    articles = [r[2] for r in rows if r[1] == "article"]
    assert len(articles) == len(set(articles)) == len(both.articles)
    assert sum(int(r[3]) for r in rows if r[1] == "source") == 9
    assert [r[2:] for r in rows if r[1] == "bounces"] == [
        ["refused at send (5xx)", "1"],
        ["hard, reported after delivery", "1"],
        ["soft, reported after delivery", "1"],
    ]
    status = CliRunner().invoke(cli, ["status"], env=env).output
    assert "3 bounced (1 refused at send (5xx), 1 hard and 1 soft reported after delivery)" in status

    client = app.test_client()
    login(client)
    page = client.get(f"/admin/issues/{issue.week}").get_data(as_text=True)
    assert page.count(f"<td>{shared.title}</td>") == 1
    assert 'data-key="refused">1<' in page and 'data-key="hard">1<' in page and 'data-key="soft">1<' in page
