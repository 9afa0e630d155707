"""Data the tests work on: the shared corpus on disk, and articles, issues and readers made in code."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.collect.topics import DEFAULT_TOPICS, Taxonomy
from digest.db import Database
from digest.facade import Digest
from digest.issue.compose import compose
from digest.issue.render import Personal
from digest.models import Article, Issue, IssueStatus, NewArticle, NewIssue, Section

from .skips import CORPUS_ABSENT

ROOT = Path(__file__).resolve().parents[2]
CORPUS_VARIABLE = "DIGEST_TEST_CORPUS"
# The shared test corpus: $DIGEST_TEST_CORPUS when set, else ../shared/corpus beside the checkout.
CORPUS = Path(os.environ.get(CORPUS_VARIABLE) or ROOT.parent / "shared" / "corpus").expanduser().resolve()
WHEN = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def corpus(*parts: str) -> Path:
    """A path inside the shared corpus; the test is skipped, with the way to fix it, when it is not there."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{CORPUS_ABSENT}: {path} (it is optional; set {CORPUS_VARIABLE} to the folder that holds it)")
    return path


# -- articles and issues stored through the facade -----------------------------------------------


def add_article(digest: Digest, n: int, published: datetime) -> None:
    """Stores patent ruling ``n`` (guid g<n>, topic patents) published at ``published``."""
    digest.db.articles.add(
        NewArticle(
            guid=f"g{n}",
            url=f"https://news.example/{n}",
            canonical_url=f"https://news.example/{n}",
            title=f"Patent ruling number {n}",
            source="News",
            published=published,
            summary="A court ruled on a patent.",
            topics=("patents",),
        )
    )


def add_subscribers(digest: Digest, count: int) -> list[str]:
    """Adds reader0@example.org, … as active subscribers; returns their addresses in order."""
    emails = [f"reader{i}@example.org" for i in range(count)]
    for e in emails:
        digest.subscribers.add(e)
    return emails


def article(n: int, topic: str, title: str, when: datetime = WHEN) -> Article:
    """A stored-looking article ``n`` in one topic, published ``n`` hours before ``when``."""
    return Article(
        id=n,
        guid=f"g{n}",
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/{n}",
        title=title,
        source="IP Wire",
        published=when - timedelta(hours=n),
        summary=f"Summary of story {n} <b>with markup kept as text</b>.",
        topics=(topic,),
    )


def make_issue(db: Database, week: str = "2026-W48", status: str = "sent") -> Issue:
    """An issue of three articles, two on patents and one on copyright, ending on the Monday of ``week``; its
    subject and preheader are written as an editor's would be."""
    year, number = week.split("-W")
    end = datetime.fromisocalendar(int(year), int(number), 1).replace(hour=7, tzinfo=UTC)
    issue = NewIssue(
        week=week,
        title="IP Protection Weekly",
        subject=f"IP Protection Weekly {week}: the court rules",
        preheader="3 stories this week",
        start=end - timedelta(days=7),
        end=end,
        subject_fixed=True,
        preheader_fixed=True,
        sections=(
            Section(
                "patents",
                "Patents",
                (
                    article(1, "patents", "Court rules on wearable sensor patent", end),
                    article(2, "patents", "EPO publishes new guidelines", end),
                ),
            ),
            Section("copyright", "Copyright", (article(3, "copyright", "Milan court blocks streaming sites", end),)),
        ),
    )
    saved = db.issues.save_draft(issue)
    if status != "draft":
        db.issues.set_status(saved.id, IssueStatus(status))
    found = db.issues.get(saved.id)
    assert found is not None
    return found


def sample_issue(week: str = "2025-W10") -> NewIssue:
    """Ten stories: six on patents, four on trademarks; subject and preheader written as an editor's."""
    end = datetime(2025, 3, 7, 12, tzinfo=UTC)

    def art(i: int, topic: str) -> Article:
        return Article(
            id=i,
            guid=f"g{i}",
            url=f"https://news.example/{i}",
            canonical_url=f"https://news.example/{i}",
            title=f"Story {i} about {topic}",
            source="IP Wire",
            published=end - timedelta(hours=i),
            summary=("A court ruled on the matter. " * 12).strip(),
            topics=(topic,),
        )

    sections = (
        Section("patents", "Patents", tuple(art(i, "patents") for i in range(6))),
        Section("trademarks", "Trademarks", tuple(art(i, "trademarks") for i in range(6, 10))),
    )
    return NewIssue(
        week=week,
        title="IP Protection Weekly",
        subject="IP Protection Weekly: 10 stories",
        preheader="Patents and trademarks",
        start=end - timedelta(days=7),
        end=end,
        sections=sections,
        subject_fixed=True,
        preheader_fixed=True,
    )


# -- an issue composed in memory, for rendering ---------------------------------------------------

RENDER_WHEN = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
WHO = Personal(
    name="Ann Example",
    email="ann@example.com",
    unsubscribe_url="https://d.example/unsubscribe/TOKEN",
    preferences_url="https://d.example/preferences/TOKEN",
)


def story(i: int, title: str, topics: tuple[str, ...], hours: int = 0, summary: str = "") -> Article:
    """Article ``i`` in ``topics``, published ``hours + i`` hours before RENDER_WHEN."""
    return Article(
        id=i,
        guid=f"g{i}",
        url=f"https://news.example/{i}",
        canonical_url=f"https://news.example/{i}",
        title=title,
        source="IP Wire",
        published=RENDER_WHEN - timedelta(hours=hours + i),
        summary=summary or f"Summary of story {i}: a court held that the claims were valid.",
        topics=topics,
    )


STORIES = [
    replace(story(1, "Jury awards $12m for patent infringement", ("patents",)), jurisdictions=("us",)),
    replace(
        story(2, "Fake cosmetics cost the EU \u20ac3bn a year: Belle\u00e2me", ("trademarks", "counterfeits")),
        jurisdictions=("eu",),
    ),
    story(3, "Court orders ISPs to block 30 piracy sites", ("copyright",)),
    story(4, 'Smith & Wesson "wins" <b>trade dress</b> case', ("trademarks",)),
]


# Story 4 as two other sources told it: one story with three sources.
ALSO_CARRIED = [
    replace(
        story(5, "Smith & Wesson wins trade dress case over revolver grip", ("trademarks",)),
        source="Brand Notes",
        summary="Summary of story 4: a court held that the claims were valid.",
    ),
    replace(
        story(6, "Court sides with Smith & Wesson in trade dress case", ("trademarks",)),
        source="Trade Mark Wire",
        summary="Summary of story 4: a court held the claims valid.",
    ),
]


# More stories, with their length known (so with reading times): with them a reader of trademarks,
# counterfeits and designs gets six stories and an "In this issue" list.
MORE_STORIES = [
    replace(story(7, "EU design reform enters into force", ("designs",)), words=690),
    replace(
        story(8, "Customs seize 40,000 fake watches at Hamburg port", ("counterfeits",)),
        words=412,
        jurisdictions=("de", "eu"),
    ),
    replace(story(9, "Oat milk brand wins trademark opposition", ("trademarks",)), words=95),
    replace(story(10, "Colour mark for tools allowed on appeal", ("trademarks",)), words=1250),
]


def composed_issue(articles: list[Article] = STORIES) -> Issue:
    """``articles`` composed into the issue of the week ending RENDER_WHEN (id 7, a draft)."""
    made = compose(
        articles,
        Taxonomy(DEFAULT_TOPICS),
        title="IP Protection Weekly",
        when=RENDER_WHEN,
        start=RENDER_WHEN - timedelta(days=7),
    )
    assert made is not None
    return Issue(**{**made.__dict__, "id": 7, "status": IssueStatus.DRAFT})
