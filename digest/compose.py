"""The compose stage: the week's stored articles → an issue of topic sections (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from .models import Article, NewIssue, Section
from .topics import Taxonomy

FIRST_ISSUE_DAYS = 7
SUBJECT_MAX = 78


def week_key(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def period(when: datetime, last_cutoff: datetime | None) -> tuple[datetime, datetime]:
    """From the last issue's cut-off (or a week back for the first issue) to ``when``."""
    return (last_cutoff or when - timedelta(days=FIRST_ISSUE_DAYS)), when


def sections(articles: Sequence[Article], taxonomy: Taxonomy) -> tuple[Section, ...]:
    """Each article in the section of its first topic; sections in taxonomy order, newest first."""
    by_topic: dict[str, list[Article]] = {}
    for article in articles:
        primary = next((slug for slug in article.topics if slug in taxonomy), None)
        if primary is not None:
            by_topic.setdefault(primary, []).append(article)
    out = []
    for topic in taxonomy.topics:
        items = sorted(by_topic.get(topic.slug, []), key=lambda a: a.published, reverse=True)
        if items:
            out.append(Section(topic=topic.slug, name=topic.name, articles=tuple(items)))
    return tuple(out)


def top_story(secs: Sequence[Section]) -> Article | None:
    """The newest article of the issue."""
    arts = [a for s in secs for a in s.articles]
    return max(arts, key=lambda a: a.published) if arts else None


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


def subject(title: str, when: datetime, secs: Sequence[Section], top: Article | None = None) -> str:
    """'IP Protection Weekly, 30 Nov 2026: <top title>, and 7 more' within SUBJECT_MAX characters."""
    top = top or top_story(secs)
    head = f"{title}, {when.day} {when:%b %Y}"
    if top is None:
        return head
    n = sum(len(s.articles) for s in secs) - 1
    tail = f", and {n} more" if n else ""
    room = max(20, SUBJECT_MAX - len(head) - 2 - len(tail))
    return f"{head}: {_shorten(top.title, room)}{tail}"


def preheader(secs: Sequence[Section]) -> str:
    total = sum(len(s.articles) for s in secs)
    parts = ", ".join(f"{s.name} ({len(s.articles)})" for s in secs)
    noun = "story" if total == 1 else "stories"
    return f"{total} {noun} this week: {parts}"


def compose(articles: Sequence[Article], taxonomy: Taxonomy, *, title: str, when: datetime,
            start: datetime) -> NewIssue | None:
    """The issue for the week of ``when``, or None when no article falls in the period."""
    secs = sections(articles, taxonomy)
    if not secs:
        return None
    return NewIssue(
        week=week_key(when), title=title, subject=subject(title, when, secs), preheader=preheader(secs),
        start=start, end=when, sections=secs,
    )
