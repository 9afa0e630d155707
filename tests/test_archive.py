"""The archive of sent stories: an issue sent through aiosmtpd joins it with its register numbers, the search
answers with filters on SQLite and PostgreSQL, an older database gets its sent stories by the migration,
and the web page, the feeds and `digest search` read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from digest.cli import cli
from digest.config import Settings
from digest.db import Database, make_engine
from digest.db.archive import Hit, Query, Story
from digest.db.migrate import upgrade
from digest.delivery.outbox import SendOptions
from digest.facade import Digest
from digest.issue import archive
from digest.models import Article

from .support.data import RENDER_WHEN, composed_issue, story
from .support.db import restore
from .support.sending import delivery_settings
from .support.smtp import Sink
from .support.web import digest_of, make_app

EPO = "https://worldwide.espacenet.com/patent/search?q=pn%3DEP3512904B1"
CURIA = "https://curia.europa.eu/juris/liste.jsf?num=T-456%2F22&language=en"


def stories() -> list[Article]:
    return [
        story(
            1,
            "Board revokes EP 3 512 904 B1 on standard-essential claims",
            ("patents",),
            summary="The opposition division revoked EP3512904B1, a patent declared essential to the 5G standard.",
        ),
        story(
            2,
            "General Court confirms refusal of a colour mark",
            ("trademarks",),
            summary="In T-456/22 the court found that the shade of orange lacked distinctive character.",
        ),
        story(
            3,
            "Customs seize counterfeit power tools at the port",
            ("counterfeits",),
            hours=48,  # two days before the others
            summary="Officers found 4,000 fake drills; the brand owner's EUTM No. 018123456 was infringed.",
        ),
    ]


def send(d: Digest) -> int:
    """Build the issue of stories() and send it to a reader of everything and a reader of patents."""
    issue = d.db.issues.save_draft(composed_issue(stories()))
    d.subscribers.add("all@example.org", "All")
    d.subscribers.add("pat@example.org", "Pat", ("patents",))
    saved = d.db.issues.get(issue.id)
    assert saved is not None
    assert d.deliver(saved, options=SendOptions(concurrency=1)).sent == 2
    return saved.id


@pytest.fixture
def sent(db_url: str, tmp_path: Path, smtp_sink: Sink) -> Iterator[tuple[Digest, int, Sink]]:
    d = Digest(delivery_settings(db_url, tmp_path, smtp_sink.port))
    issue_id = send(d)
    yield d, issue_id, smtp_sink
    d.close()


def titles(hits: list[Hit]) -> list[str]:
    return [h.title for h in hits]


def test_each_reader_gets_their_stories_with_register_links(sent: tuple[Digest, int, Sink]) -> None:
    _, _, sink = sent
    mails = {rcpts[0]: mail for _, rcpts, mail in sink.messages}
    for reader, expected in (("all@example.org", 3), ("pat@example.org", 1)):
        html = mails[reader].get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = mails[reader].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert f'href="{EPO}"' in html.replace("&amp;", "&") and f"EP3512904B1: {EPO}" in text
        assert (CURIA in html.replace("&amp;", "&")) == (expected == 3)
        assert ("Customs seize counterfeit" in text) == (expected == 3)


def test_a_sent_issue_is_in_the_archive_and_the_search_filters_it(sent: tuple[Digest, int, Sink]) -> None:
    d, issue_id, _ = sent
    db = d.db
    assert db.archive.count() == 3 and not db.archive.pending()
    (hit,) = archive.search(db, "standard essential")
    assert (hit.issue_id, hit.article_id, hit.topics) == (issue_id, 1, ("patents",))
    # a number, written any way, finds the story that wrote it another way; so do its digits alone
    for written in ("EP 3 512 904", "ep3512904", "EP 3.512.904 B1", "3512904"):
        assert titles(archive.search(db, written)) == [hit.title], written
    assert titles(archive.search(db, "T-456/22")) == ["General Court confirms refusal of a colour mark"]
    assert titles(archive.search(db, "EUTM 18123456")) == ["Customs seize counterfeit power tools at the port"]
    # prefixes, accents and case; every word must be there
    assert len(archive.search(db, "COURT")) == 1 and len(archive.search(db, "Cöurt confirms")) == 1
    assert archive.search(db, "court drills") == []
    # filters, alone and with words
    assert titles(archive.search(db, topic="trademarks")) == ["General Court confirms refusal of a colour mark"]
    assert archive.search(db, "orange", topic="patents") == []
    assert len(archive.search(db, source="ip wire")) == 3 and archive.search(db, source="Other") == []
    early = (RENDER_WHEN - timedelta(hours=51)).date()
    assert {h.article_id for h in archive.search(db, start=early, end=early)} == {3}
    assert {h.article_id for h in archive.search(db, start=early + timedelta(days=1))} == {1, 2}
    assert archive.search(db, "court", end=date(2000, 1, 1)) == []
    # newest sent first, and pages by row id
    everything = archive.search(db, limit=10)
    assert [h.id for h in everything] == sorted((h.id for h in everything), reverse=True)
    assert archive.search(db, limit=1, before=everything[0].id)[0].id == everything[1].id


def test_a_jurisdiction_filter_reads_each_storys_codes(db_url: str) -> None:
    db = Database(db_url)
    issue = db.issues.save_draft(composed_issue(stories()))
    when = datetime(2026, 1, 5, tzinfo=UTC)
    db.archive.record(
        issue.id,
        when,
        [
            Story(1, "https://n.example/1", "Local division grants injunction", "", "W", when, ("patents",), ("upc",)),
            Story(2, "https://n.example/2", "Jury verdict in Texas", "", "W", when, ("patents",), ("us",)),
            Story(3, "https://n.example/3", "Pan-European ruling", "", "W", when, ("patents",), ("upc", "eu")),
        ],
    )
    assert titles(db.archive.search(Query(jurisdiction="upc"))) == [
        "Pan-European ruling",
        "Local division grants injunction",
    ]
    assert titles(db.archive.search(Query("verdict", jurisdiction="US"))) == ["Jury verdict in Texas"]
    assert db.archive.search(Query(jurisdiction="u%")) == []  # no code: nothing, not a pattern
    db.close()


@pytest.mark.parametrize("text", ['"', "*", "AND OR NOT", "a:*", "(x", "'; DROP TABLE issues; --", "\x00", "…"])
def test_any_text_is_a_search_never_an_error(db_url: str, text: str) -> None:
    db = Database(db_url)
    assert archive.search(db, text) == []
    db.close()


def test_an_older_database_gets_its_sent_stories_and_their_numbers(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v3', tmp_path)}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(url)
    assert db.archive.count() == 7 and db.archive.pending()
    (hit,) = archive.search(db, "counterfeit power tools")
    assert (hit.issue_id, hit.article_id) == (1, 1)
    archive.complete(db)  # as `digest search` and the web side's start do
    assert not db.archive.pending()
    with db.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM archive_stories WHERE numbers IS NULL").scalar() == 0
    db.close()


def test_setting_an_issue_sent_records_it_even_outside_the_send(db_url: str) -> None:
    """Every store of a published issue keeps the archive in step: the numbers follow on the next search."""
    from digest.models import IssueStatus

    db = Database(db_url)
    issue = db.issues.save_draft(composed_issue(stories()))
    db.issues.set_status(issue.id, IssueStatus.SENT)
    assert db.archive.count() == 3 and db.archive.pending()
    assert archive.search(db, "3512904") == [], "the digits alone are a form the numbers give, not yet known"
    archive.complete(db)
    assert titles(archive.search(db, "3512904")) == [stories()[0].title]
    assert not db.archive.pending()
    db.close()


# -- the web page, the feeds, the command -------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, tmp_path: Path, smtp_sink: Sink) -> Iterator[FlaskClient]:
    app = make_app(settings)
    d = digest_of(app)
    issue = d.db.issues.save_draft(composed_issue(stories()))
    from digest.models import IssueStatus

    d.db.issues.set_status(issue.id, IssueStatus.SENT)
    yield app.test_client()
    d.close()


def test_the_search_page_links_each_story_in_its_issue(client: FlaskClient) -> None:
    resp = client.get("/issues/search?q=EP+3+512+904&topic=patents")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'role="search"' in body
    assert '<a href="/issues/1#a1">Board revokes EP 3 512 904 B1' in body
    assert f'href="{EPO.replace("&", "&amp;")}"' in body and "colour mark" not in body
    for field in ("q", "topic", "jurisdiction", "source", "from", "to"):
        assert f'<label for="{field}">' in body and f'id="{field}"' in body
    assert "Stories found" not in client.get("/issues/search").get_data(as_text=True)
    assert "No story found" in client.get("/issues/search?q=nothing+like+this").get_data(as_text=True)


def test_a_bad_date_is_explained_and_searches_nothing(client: FlaskClient) -> None:
    resp = client.get("/issues/search?q=court&from=yesterday")
    assert resp.status_code == 400 and "is not a date" in resp.get_data(as_text=True)


def test_feeds_per_topic_and_jurisdiction(client: FlaskClient) -> None:
    resp = client.get("/issues/topics/trademarks/feed.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    feed = feedparser.parse(resp.get_data())
    assert not feed.bozo and [e.title for e in feed.entries] == ["General Court confirms refusal of a colour mark"]
    assert (
        feed.entries[0].link.endswith("/issues/1#a2")
        and CURIA.replace("&", "&amp;") in feed.entries[0].content[0].value
    )
    assert client.get("/issues/topics/no-such-topic/feed.xml").status_code == 404
    empty = feedparser.parse(client.get("/issues/jurisdictions/upc/feed.xml").get_data())
    assert not empty.bozo and empty.entries == []
    assert client.get("/issues/jurisdictions/%25/feed.xml").status_code == 404


def test_digest_search_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    db = Database(url)
    issue = db.issues.save_draft(composed_issue(stories()))
    from digest.models import IssueStatus

    db.issues.set_status(issue.id, IssueStatus.SENT)
    db.close()
    config = tmp_path / "digest.toml"
    config.write_text('[newsletter]\nbase_url = "https://d.example"\n', encoding="utf-8")
    env = {"DIGEST_DATABASE_URL": url}
    runner = CliRunner()
    out = runner.invoke(cli, ["-c", str(config), "search", "EP 3 512 904", "--topic", "patents"], env=env)
    assert out.exit_code == 0, out.output
    assert "Board revokes EP 3 512 904 B1" in out.output and "https://d.example/issues/1#a1" in out.output
    out = runner.invoke(cli, ["-c", str(config), "search", "court", "--json"], env=env)
    assert [json.loads(line)["title"] for line in out.output.splitlines()] == [
        "General Court confirms refusal of a colour mark"
    ]
    out = runner.invoke(cli, ["-c", str(config), "search", "x", "--from", "not-a-day"], env=env)
    assert out.exit_code == 2
    assert "Example" in runner.invoke(cli, ["search", "--help"]).output
