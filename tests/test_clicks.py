"""Click tracking end to end: an issue sent through aiosmtpd to 50 readers, its links followed over waitress
as readers and as scanners do, and `digest report` counting exactly the readers' clicks."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from digest.cli import cli
from digest.config import ScheduleConfig, SMTPConfig, TrackingConfig
from digest.db import Database
from digest.db.migrate import head, upgrade_database
from digest.facade import Digest
from digest.issue.clicks import BURST_SECONDS, SCANNER_SECONDS, Links, tally
from digest.models import Click, IssueStatus
from digest.ops.reports import as_text, issue_report
from digest.ops.schedule import Schedule
from digest.ops.sender import Sender
from subscribers.clock import now
from subscribers.model import NewSubscriber

from .support.data import ROOT, sample_issue
from .support.db import restore
from .support.smtp import Sink
from .support.web import live_server, make_settings

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15"
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel link protection)"
T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def links_of(sink: Sink, base: str) -> dict[str, list[str]]:
    """Each recipient's /r/ links, in the order of the text part."""
    out = {}
    for _, rcpts, msg in sink.messages:
        part = msg.get_body(("plain",))
        assert part is not None
        out[rcpts[0]] = re.findall(rf"{re.escape(base)}/r/\S+", str(part.get_content()))
    return out


def test_fifty_readers_and_their_scanners_and_the_report_counts_only_the_readers(
    tmp_path: Path, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    tracking = TrackingConfig(clicks=True, per_subscriber=True)
    with live_server(tmp_path, smtp=smtp, tracking=tracking) as live:
        d = live.digest
        issue = d.db.issues.save_draft(sample_issue())
        d.subscribers.add_many([NewSubscriber(f"reader{i}@example.org") for i in range(50)])
        smtp_sink.refuse.add("reader49@example.org")
        Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
        links = links_of(smtp_sink, live.base)
        assert len(links) == 49 and all(len(v) == 10 for v in links.values())
        stored = {a.id: a.url for a in issue.articles}

        def follow(who: int, n: int, agent: str = BROWSER, method: str = "GET", query: str = "") -> requests.Response:
            resp = requests.request(
                method,
                links[f"reader{who}@example.org"][n] + query,
                timeout=5,
                headers={"User-Agent": agent},
                allow_redirects=False,
            )
            assert resp.status_code == 302
            assert resp.headers["Location"] == stored[issue.articles[n].id]
            return resp

        for who in range(10):  # ten readers follow one story each: 10 clicks that count
            follow(who, who)
        follow(0, 0)  # the first of them again: still one
        follow(10, 3, method="HEAD")  # a HEAD: a scanner's look
        follow(11, 4, agent=SCANNER)  # a gateway at delivery time
        for n in range(10):  # every link of one message at once
            follow(12, n)
        follow(13, 5, query="?next=https://evil.example/&url=https://evil.example/")  # the query is ignored
        follow(13, 2)  # a second story of the same reader: counts, one reader still
        forged = links["reader14@example.org"][0].split("/r/")[0] + "/r/eyJ4IjoxfQ.forged"
        assert requests.get(forged, timeout=5, allow_redirects=False).status_code == 404
        other = links["reader15@example.org"][2].rsplit("/", 1)[0] + "/" + d.click_links().reader(999, 15)
        follow_other = requests.get(
            other,
            timeout=5,
            allow_redirects=False,  # a reader part of another issue
            headers={"User-Agent": BROWSER},
        )
        assert follow_other.status_code == 302  # followed, not counted: the reader part is not this issue's
        bare = links["reader16@example.org"][2].rsplit("/", 1)[0]  # the reader part cut off
        assert requests.get(bare, timeout=5, allow_redirects=False, headers={"User-Agent": BROWSER}).status_code == 302

        (unsubscribe,) = [m["List-Unsubscribe"] for _, r, m in smtp_sink.messages if r == ["reader20@example.org"]]
        left = requests.post(unsubscribe.strip("<>"), data={"List-Unsubscribe": "One-Click"}, timeout=5)
        assert left.status_code == 200

        monkeypatch.chdir(tmp_path)
        env = {"DIGEST_DATABASE_URL": live.settings.database_url, "DIGEST_SECRET_KEY": "a test key, not a secret"}
        done = CliRunner().invoke(cli, ["report", issue.week, "--json"], env=env)
        assert done.exit_code == 0, done.output
        rep = json.loads(done.output)
        assert rep["outcomes"]["recipients"] == 50 and rep["outcomes"]["delivered"] == 49
        assert rep["outcomes"]["failed"] == rep["bounces"]["refused"] == 1 and rep["unsubscribed"] == 1
        assert rep["clicks"] == 12 and rep["readers"] == 11  # 10 + reader 13's two; none without its reader part
        assert rep["apart"] == {"burst": 10, "head": 1, "repeat": 1, "scanner": 1}
        per_article = {a["article_id"]: a["clicks"] for a in rep["articles"]}
        assert per_article[issue.articles[5].id] == 2 and per_article[issue.articles[2].id] == 2
        assert sum(per_article.values()) == 12
        assert rep["per_topic"] == {"Patents": 8, "Trademarks": 4} and rep["per_source"] == {"IP Wire": 12}

        csv_out = CliRunner().invoke(cli, ["report", issue.week, "--csv"], env=env).output
        assert "2025-W10,clicks,counted,12" in csv_out.splitlines()
        text = CliRunner().invoke(cli, ["report"], env=env).output
        assert "clicks: 12 counted; unique readers: 11" in text
        (tmp_path / "report.txt").write_text(text, encoding="utf-8")
        lines = text.splitlines()
        for page in pages_showing("$ digest report 2025-W10\n"):
            sample = page.read_text(encoding="utf-8").split("$ digest report 2025-W10\n", 1)[1]
            shown = [line for line in sample.split("```", 1)[0].splitlines() if line.strip() != "…"]
            assert [line for line in lines if line in shown] == shown, f"{page} shows this report"
        assert as_text(issue_report(d, d.db.issues.get(issue.id) or issue)) == text


def test_without_tracking_the_email_links_are_the_articles_own(tmp_path: Path, smtp_sink: Sink) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp) as live:
        d = live.digest
        issue = d.db.issues.save_draft(sample_issue())
        d.subscribers.add("reader@example.org")
        Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
        assert links_of(smtp_sink, live.base) == {"reader@example.org": []}
        ((_, _, msg),) = smtp_sink.messages
        html = msg.get_body(("html",))
        assert html is not None and 'href="https://news.example/0"' in str(html.get_content())
        assert "/o/" not in str(html.get_content())  # no open image either
        text = (
            CliRunner()
            .invoke(cli, ["report", issue.week], env={"DIGEST_DATABASE_URL": live.settings.database_url})
            .output
        )
        assert "clicks: not tracked" in text


def test_links_name_the_issue_and_the_article_and_refuse_tampering() -> None:
    links = Links("key", "https://d.example", per_subscriber=False)
    url = links.url(7, 3)
    token = url.rsplit("/", 1)[1]
    assert links.read(token) == (7, 3, None)
    assert links.read(token, links.reader(7, 42)) == (7, 3, 42)
    assert links.read(token, links.reader(8, 42)) == (7, 3, None)  # another issue's reader part
    assert links.read(token, "garbage") == (7, 3, None)
    with pytest.raises(ValueError, match="not valid"):
        Links("another key", "https://d.example").read(token)


def test_tally_discounts_scanners_by_their_timing_and_bursts_by_their_speed() -> None:
    delivered = {1: T0, 2: T0}
    late = T0 + timedelta(seconds=SCANNER_SECONDS + 1)
    clicks = [
        Click(1, 1, T0 + timedelta(seconds=2), scanner_agent=True),  # at delivery: a scanner
        Click(2, 1, late, scanner_agent=True),  # later: a reader on that agent
        Click(1, 2, late),
        Click(2, 2, late + timedelta(seconds=BURST_SECONDS + 1)),  # two, slowly
        Click(3, 2, late + timedelta(seconds=BURST_SECONDS * 3)),
        Click(1, None, T0 + timedelta(seconds=1), scanner_agent=True),  # anonymous, at the last delivery
        Click(2, None, late),
        Click(2, None, late),  # anonymous: each counts
    ]
    got = tally(clicks, delivered, T0, links_in_issue=3)
    assert len(got.counted) == 6 and got.readers == 2 and dict(got.apart) == {"scanner": 2}
    fast = [Click(a, 1, late + timedelta(seconds=a)) for a in (1, 2, 3)]
    assert dict(tally(fast, delivered, T0, 3).apart) == {"burst": 3}
    assert dict(tally(fast[:2], delivered, T0, 2).apart) == {"burst": 2}  # both links of a two-link issue
    assert not tally(fast[:2], delivered, T0, 10).apart  # two of ten: a reader


def test_a_database_made_before_click_tracking_gets_the_clicks_table(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v3', tmp_path)}"
    done = upgrade_database(url)
    assert done.changed and done.after == head()
    db = Database(url)
    try:
        issue = db.issues.latest((IssueStatus.SENT, IssueStatus.SENDING, IssueStatus.DRAFT))
        assert issue is not None
        db.clicks.record(issue.id, Click(issue.articles[0].id, None, T0))
        assert db.clicks.of_issue(issue.id) == [Click(issue.articles[0].id, None, T0)]
        assert db.clicks.forget_before(T0 + timedelta(days=1)) == 1 and db.clicks.of_issue(issue.id) == []
    finally:
        db.close()


def test_opens_when_asked_for_come_with_their_caveat(tmp_path: Path, smtp_sink: Sink) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp, tracking=TrackingConfig(opens=True, per_subscriber=True)) as live:
        d = live.digest
        issue = d.db.issues.save_draft(sample_issue())
        d.subscribers.add_many([NewSubscriber(f"reader{i}@example.org") for i in range(3)])
        Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
        images = {}
        for _, rcpts, msg in smtp_sink.messages:
            html = msg.get_body(("html",))
            assert html is not None
            found = re.findall(rf'<img src="({re.escape(live.base)}/o/[^"]+)"', str(html.get_content()))
            assert len(found) == 1
            images[rcpts[0]] = found[0]
        assert links_of(smtp_sink, live.base) == {f"reader{i}@example.org": [] for i in range(3)}  # clicks off
        for who in (0, 0, 1):
            got = requests.get(images[f"reader{who}@example.org"], timeout=5)
            assert got.status_code == 200 and got.headers["Content-Type"] == "image/gif"
        assert requests.head(images["reader2@example.org"], timeout=5).status_code == 200  # not an open
        rep = issue_report(d, d.db.issues.get(issue.id) or issue)
        assert (rep.opens, rep.openers, rep.tracking) == (3, 2, False)
        assert "opens: 3 by 2 readers" in as_text(rep) and "Apple Mail Privacy Protection" in as_text(rep)


def test_click_and_open_rows_older_than_the_retention_are_deleted_with_each_collect(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sources=(), tracking=TrackingConfig(clicks=True, retention_days=30))
    d = Digest(settings)
    try:
        issue = d.db.issues.save_draft(sample_issue())
        old, recent = now() - timedelta(days=31), now() - timedelta(days=29)
        d.db.clicks.record(issue.id, Click(1, None, old))
        d.db.clicks.record(issue.id, Click(2, None, recent))
        d.db.clicks.record_open(issue.id, None, old)
        d.collect()
        assert [c.article_id for c in d.db.clicks.of_issue(issue.id)] == [2]
        assert d.db.clicks.opens(issue.id) == (0, 0)
    finally:
        d.close()


def test_a_per_reader_link_without_its_reader_is_not_counted_and_a_burst_is_refused(
    tmp_path: Path, smtp_sink: Sink
) -> None:
    from sqlalchemy import func, select

    from digest.db import tables

    from .support.web import make_app

    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    settings = make_settings(tmp_path, smtp=smtp, tracking=TrackingConfig(clicks=True, per_subscriber=True))
    app = make_app(settings, CLICK_LIMIT="3 per minute")
    d = app.extensions["digest"].digest
    issue = d.db.issues.save_draft(sample_issue())
    d.subscribers.add_many([NewSubscriber("reader@example.org")])
    Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(issue)
    (link,) = links_of(smtp_sink, settings.base_url)["reader@example.org"][:1]
    path = link.removeprefix(settings.base_url)
    bare = path.rsplit("/", 1)[0]

    def stored() -> int:
        with d.db.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(tables.clicks)).scalar_one())

    client = app.test_client()
    headers = {"User-Agent": BROWSER}
    assert client.get(path, headers=headers).status_code == 302 and stored() == 1
    for cut in (bare, bare + "/", bare + "/" + d.click_links().reader(issue.id + 1, 1)):
        assert client.get(cut, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302
    assert stored() == 1, "followed, never stored: without its reader part the click cannot be told from a forged one"

    codes = [client.get(path, headers=headers).status_code for _ in range(4)]
    assert codes == [302, 302, 429, 429] and stored() == 3  # three in the minute for this client and link
    other = client.get(path, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other.status_code == 302 and stored() == 4, "another client is not blocked by the burst"
    d.close()


def pages_showing(marker: str) -> list[Path]:
    """The docs pages that show ``marker``; the README only while no docs page does (its samples move there)."""
    docs = [p for p in sorted((ROOT / "docs").rglob("*.md")) if marker in p.read_text(encoding="utf-8")]
    return docs or [ROOT / "README.md"]
