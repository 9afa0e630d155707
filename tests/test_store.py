from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from digest.collect.urls import canonical_url
from digest.db import Database
from digest.db.migrate import head, state
from digest.errors import DigestError, SchemaMismatch
from digest.models import Article, IssueStatus, NewIssue, Section

NOW = datetime.now(UTC)


def art(guid: str, url: str, days: float = 1) -> Article:
    return Article(
        id=1,
        guid=guid,
        url=url,
        canonical_url=canonical_url(url),
        title=f"T {guid}",
        source="s",
        published=NOW - timedelta(days=days),
        summary="S.",
        topics=("patents",),
    )


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path}/d.db")


def test_canonical_url_drops_tracking_and_fragments() -> None:
    assert (
        canonical_url("HTTPS://Example.ORG:443/a/?utm_source=x&id=3&fbclid=y&gclid=z#respond")
        == "https://example.org/a/?id=3"
    )
    assert canonical_url("http://example.org") == "http://example.org/"
    assert canonical_url("http://example.org:8080/x?mc_cid=1") == "http://example.org:8080/x"


def test_same_guid_or_same_canonical_url_is_one_article(db: Database) -> None:
    assert db.articles.add(art("g1", "https://x.example/a/"))
    assert not db.articles.add(art("g1", "https://x.example/other/"))
    assert not db.articles.add(art("g2", "https://x.example/a/?utm_campaign=feed#comments"))
    assert db.articles.add(art("g3", "https://x.example/b/"))
    assert db.articles.count() == 2


def test_a_batch_is_stored_and_looked_up_as_one_article_at_a_time(db: Database) -> None:
    assert db.articles.add(art("g1", "https://x.example/a/"))
    batch = [
        art("g2", "https://x.example/b/"),
        art("g1", "https://x.example/c/"),
        art("g3", "https://x.example/b/?utm_source=feed"),
        art("g4", "https://x.example/d/"),
    ]
    assert db.articles.known_each([(a.guid, a.canonical_url) for a in batch]) == [False, True, False, False]
    assert db.articles.add_each(batch) == [True, False, False, True]
    assert db.articles.known_each(
        [("g4", "https://x.example/z/"), ("g9", "https://x.example/b/"), ("g9", "https://x.example/z/")]
    ) == [True, True, False]
    assert db.articles.count() == 3
    assert db.articles.add_each([]) == [] and db.articles.known_each([]) == []


def test_articles_between_newest_first(db: Database) -> None:
    for i, days in enumerate((1, 3, 10)):
        db.articles.add(art(f"g{i}", f"https://x.example/{i}", days))
    got = db.articles.between(NOW - timedelta(days=7), NOW)
    assert [a.guid for a in got] == ["g0", "g1"]
    assert got[0].published.tzinfo is not None


def _issue(week: str = "2026-W49") -> NewIssue:
    a = art("g1", "https://x.example/a")
    return NewIssue(
        week=week,
        title="T",
        subject="S",
        preheader="P",
        start=NOW - timedelta(days=7),
        end=NOW,
        sections=(Section("patents", "Patents", (a,)),),
    )


def test_draft_is_replaced_but_a_sending_issue_never_rebuilt(db: Database) -> None:
    first = db.issues.save_draft(_issue())
    again = db.issues.save_draft(_issue())
    assert first.id == again.id and again.articles[0].title == "T g1"
    db.issues.set_status(again.id, IssueStatus.SENDING)
    with pytest.raises(DigestError, match="already started sending"):
        db.issues.save_draft(_issue())


def test_source_state_is_remembered(db: Database) -> None:
    db.sources.record_fetch("https://x.example/feed", "X", etag='"e1"', last_modified="Mon, 01 Jan 2026 00:00:00 GMT")
    assert db.sources.state("https://x.example/feed") == ('"e1"', "Mon, 01 Jan 2026 00:00:00 GMT")
    db.sources.record_fetch("https://x.example/feed", "X", error="HTTP 500")
    row = db.sources.rows()[0]
    assert row["last_error"] == "HTTP 500" and row["etag"] == '"e1"' and row["last_success"] is not None


def test_reopening_keeps_data_and_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    Database(url).articles.add(art("g1", "https://x.example/a"))
    again = Database(url)
    assert again.articles.count() == 1
    assert state(again.engine).at_head and state(again.engine).current == head()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    s = Database(url)
    with s.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(SchemaMismatch, match="upgraded by a newer ip-digest; install it"):
        Database(url)


def test_secret_key_is_made_once_and_kept(db: Database) -> None:
    key = db.meta.secret_key(None)
    assert key == db.meta.secret_key(None) and len(key) > 30
    assert db.meta.secret_key("configured") == "configured"


def test_a_draft_built_by_two_processes_at_once_is_saved_by_both(tmp_path: Path) -> None:
    """The other builder inserts the week between this one's look and its insert (a real second connection)."""
    from sqlalchemy import event

    url = f"sqlite:///{tmp_path}/d.db"
    db, other = Database(url), Database(url)
    raced: list[bool] = []

    def insert_first(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ISSUES") and not raced:
            raced.append(True)
            other.issues.save_draft(_issue())

    event.listen(db.engine, "before_cursor_execute", insert_first)
    saved = db.issues.save_draft(_issue())
    assert raced == [True]
    assert saved.week == "2026-W49" and [i.id for i in db.issues.with_status((IssueStatus.DRAFT,))] == [saved.id]
    db.close()
    other.close()
