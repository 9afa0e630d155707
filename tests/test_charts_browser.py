"""The editor's charts in a real headless Chromium at 1280 px, over a few months of data made here: each chart
is drawn (an SVG of a real size, with bars) and labelled (its title, its legend, its axis labels)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from digest.config import AdminConfig, ScheduleConfig
from digest.facade import Digest
from digest.models import Click, NewArticle
from digest.ops.dashboard import last_weeks
from digest.ops.schedule import Schedule
from digest.ops.sender import Sender
from subscribers.clock import now
from subscribers.model import NewSubscriber

from .support.admin import HASH, PASSWORD, USER
from .support.data import sample_issue
from .support.web import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(os.environ["DIGEST_SHOTS"]) if os.environ.get("DIGEST_SHOTS") else None  # to look at them

MEASURE_CHARTS = """() => [...document.querySelectorAll('figure.chart')].map(f => {
  const svg = f.querySelector('svg'); const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll('rect.bar')].map(r => r.getBoundingClientRect())
    .filter(r => r.width > 0 && r.height > 0);
  const texts = sel => [...svg.querySelectorAll(sel)].map(t => t.textContent.trim()).filter(Boolean);
  return {id: f.id, width: Math.round(box.width), height: Math.round(box.height), bars: bars.length,
          title: texts('text.title').join(' '), legend: texts('.legend text'),
          labels: texts('text.label').length, caption: f.querySelector('figcaption').textContent.trim(),
          scripts: svg.querySelectorAll('script').length};
})"""


def months_of_data(d: Digest) -> str:
    """Four months of an audience, of articles from three sources (one failing), and a sent issue with clicks."""
    today = now()
    d.subscribers.add_many([NewSubscriber(f"reader{i}@example.org") for i in range(60)])
    with d.db.begin() as conn:
        for i in range(60):
            joined = today - timedelta(days=112 - i * 1.8)
            left = joined + timedelta(days=20) if i % 9 == 0 else None
            bounced = joined + timedelta(days=30) if i % 13 == 5 else None
            status = "unsubscribed" if left else ("bounced" if bounced else "active")
            conn.execute(
                text(
                    "UPDATE subscribers SET created_at = :j, confirmed_at = :j, unsubscribed_at = :l, "
                    "bounced_at = :b, status = :s WHERE email = :e"
                ),
                {
                    "j": joined.replace(tzinfo=None),
                    "l": left and left.replace(tzinfo=None),
                    "b": bounced and bounced.replace(tzinfo=None),
                    "s": status,
                    "e": f"reader{i}@example.org",
                },
            )
    for n in range(90):
        source = ("IP Wire", "Patent Notes", "TM Daily")[n % 3]
        d.db.articles.add(
            NewArticle(
                guid=f"g{n}",
                url=f"https://news.example/{n}",
                canonical_url=f"https://news.example/{n}",
                title=f"Story {n}",
                source=source,
                published=today,
                summary="A ruling.",
                topics=("patents",),
            )
        )
    with d.db.begin() as conn:
        for n in range(90):
            seen = (today - timedelta(days=n * 1.2)).replace(tzinfo=None)
            conn.execute(text("UPDATE articles SET first_seen = :s WHERE guid = :g"), {"s": seen, "g": f"g{n}"})
    d.db.sources.record_fetch("https://tm.example/feed", "TM Daily", error="HTTP 503 from tm.example")
    d.db.sources.record_fetch("https://ipwire.example/feed", "IP Wire")
    issue = d.db.issues.save_draft(sample_issue())
    Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
    later = now() + timedelta(minutes=5)
    for who in range(1, 40):
        for k, article in enumerate(issue.articles[: 1 + who % 4]):  # a minute apart: a reader, not a burst
            d.db.clicks.record(issue.id, Click(article.id, who, later + timedelta(hours=who, minutes=k)))
    return issue.week


def test_the_dashboard_and_a_report_draw_every_chart_labelled_at_1280_px(tmp_path: Path, chromium: Any) -> None:
    with live_server(tmp_path, admin=AdminConfig(USER, HASH)) as live:
        week = months_of_data(live.digest)
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        page.goto(f"{live.base}/admin/login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_selector("h1:has-text('Draft'), h1")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{live.base}/admin/dashboard")
        charts = page.evaluate(MEASURE_CHARTS)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        page.goto(f"{live.base}/admin/issues/{week}")
        report = page.evaluate(MEASURE_CHARTS)
        if SHOTS:
            page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
            page.goto(f"{live.base}/admin/dashboard")
            page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
        print(json.dumps({"dashboard": charts, "report": report, "scroll_width": scroll}, indent=1))

    assert [c["id"] for c in charts] == ["chart-audience", "chart-sources", "chart-funnel", "chart-top"]
    assert [c["id"] for c in report] == ["chart-funnel", "chart-top"]
    assert scroll <= 1280 and not errors, errors  # no CSP complaint: no script in the SVG
    for c in charts + report:
        assert c["width"] >= 600 and c["height"] >= 100, c
        assert c["bars"] > 0 and c["title"] and c["labels"] >= 3 and c["scripts"] == 0, c
    by = {c["id"]: c for c in charts}
    assert by["chart-audience"]["title"] == "Subscribers per week"
    assert by["chart-audience"]["legend"] == ["active", "joined", "left", "bounced"]
    assert by["chart-audience"]["bars"] >= 16  # at least the active bar of each week
    assert by["chart-sources"]["legend"] == ["IP Wire", "Patent Notes", "TM Daily (failing)"]
    assert "HTTP 503" in by["chart-sources"]["caption"]
    assert by["chart-funnel"]["bars"] == 3 and by["chart-top"]["bars"] == 4
    assert len(last_weeks(now(), 16)) == 16
