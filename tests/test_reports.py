"""The report of a sent issue in the editor's pages and as CSV; the same numbers as `digest report`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from digest.config import ScheduleConfig
from digest.ops.reports import as_rows, issue_report
from digest.ops.schedule import Schedule
from digest.ops.sender import Sender
from subscribers.store import NewSubscriber

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
    assert 'data-key="bounced">1<' in page and "Clicks are not tracked" in page
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
