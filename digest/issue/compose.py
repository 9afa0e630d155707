"""The compose stage: the week's stored articles → an issue of topic sections, and each reader's variant of
it: the sections they chose, each story once, the top story leading, a subject and counts of its own (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ..collect.topics import Taxonomy
from ..models import Article, NewIssue, Section

FIRST_ISSUE_DAYS = 7
SUBJECT_MAX = 78


def week_key(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def period(when: datetime, last_cutoff: datetime | None) -> tuple[datetime, datetime]:
    """From the last issue's cut-off (or a week back for the first issue) to ``when``."""
    return (last_cutoff or when - timedelta(days=FIRST_ISSUE_DAYS)), when


def sections(articles: Sequence[Article], taxonomy: Taxonomy) -> tuple[Section, ...]:
    """Each article in the section of every topic it has, so a reader of any of them gets it; sections in
    taxonomy order, newest first. A reader's variant shows each article once (see ``variant``)."""
    by_topic: dict[str, list[Article]] = {}
    for article in articles:
        for slug in dict.fromkeys(article.topics):
            if slug in taxonomy:
                by_topic.setdefault(slug, []).append(article)
    out = []
    for topic in taxonomy.topics:
        items = sorted(by_topic.get(topic.slug, []), key=lambda a: a.published, reverse=True)
        if items:
            out.append(Section(topic=topic.slug, name=topic.name, articles=tuple(items)))
    return tuple(out)


def once(secs: Iterable[Section]) -> tuple[Section, ...]:
    """Each article in the first of the sections that hold it; sections left empty are dropped."""
    seen: set[int] = set()
    out = []
    for sec in secs:
        arts = tuple(a for a in sec.articles if a.id not in seen)
        seen.update(a.id for a in arts)
        if arts:
            out.append(replace(sec, articles=arts))
    return tuple(out)


def top_story(secs: Sequence[Section], pinned: int | None = None) -> tuple[Section, Article] | None:
    """The story that leads, with its section: the editor's pin first, then the number of sources that
    carried it, then the weight of its topic (the section order, which the editor may change), then
    recency."""
    ranked = [
        (a.id != pinned, -a.sources, weight, -a.published.timestamp(), weight_in, sec, a)
        for weight, sec in enumerate(secs)
        for weight_in, a in enumerate(sec.articles)
    ]
    if not ranked:
        return None
    *_, sec, article = min(ranked, key=lambda r: r[:5])
    return sec, article


def _words(text: str) -> str:
    return " ".join(text.split())


def _shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a word boundary with an ellipsis when it must be."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(",;:-–— ") + "…"


def subject(title: str, when: datetime, secs: Sequence[Section], top: Article | None = None) -> str:
    """'IP Protection Weekly, 30 Nov 2026: <top title>, and 7 more' within SUBJECT_MAX characters: when it
    is too long the count goes first, then the date; the top title is cut (at a word) only as a last resort."""
    top = top or (found[1] if (found := top_story(secs)) else None)
    title, head = _words(title), f"{_words(title)}, {when.day} {when:%b %Y}"
    if top is None:
        return head
    story = _words(top.title)
    n = len({a.id for s in secs for a in s.articles} - {top.id})
    tail = f", and {n} more" if n else ""
    for candidate in (f"{head}: {story}{tail}", f"{head}: {story}", f"{title}: {story}"):
        if len(candidate) <= SUBJECT_MAX:
            return candidate
    return f"{title}: {_shorten(story, max(20, SUBJECT_MAX - len(title) - 2))}"


def preheader(secs: Sequence[Section]) -> str:
    """'4 stories this week: Patents (1), Trademarks (2), …' counting each article once."""
    secs = once(secs)
    total = sum(len(s.articles) for s in secs)
    parts = ", ".join(f"{s.name} ({len(s.articles)})" for s in secs)
    noun = "story" if total == 1 else "stories"
    return f"{total} {noun} this week: {parts}"


def applies(article: Article, places: frozenset[str] | None) -> bool:
    """Whether a reader of the jurisdictions ``places`` (None or empty: all) gets ``article``: one about
    any of them, one that names no jurisdiction, and one that applies everywhere (``int``)."""
    codes = article.jurisdictions
    return not places or not codes or "int" in codes or not places.isdisjoint(codes)


def chosen(
    issue: NewIssue, topics: frozenset[str] | None = None, places: frozenset[str] | None = None
) -> tuple[Section, ...]:
    """The sections a reader of ``topics`` × ``places`` gets (None: all), each article once."""
    secs = (s for s in issue.sections if topics is None or s.topic in topics)
    if places:
        secs = (replace(s, articles=tuple(a for a in s.articles if applies(a, places))) for s in secs)
    return once(secs)


def content_key(secs: Iterable[Section]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """What a variant is made of: its sections and their articles, in order. Two readers whose choices
    give the same key get the same message (``variant`` depends on nothing else), so it is rendered once."""
    return tuple((s.topic, tuple(a.id for a in s.articles)) for s in secs)


def variant(
    issue: NewIssue, topics: frozenset[str] | None = None, places: frozenset[str] | None = None
) -> NewIssue | None:
    """What a reader of ``topics`` and the jurisdictions ``places`` (None: all) gets: the sections they
    chose with the stories that apply to them (``applies``), each article once, the top story lifted into
    ``lead``, and a subject and preheader counted from this alone (unless the editor wrote them). None
    when nothing in the issue is for them."""
    secs = chosen(issue, topics, places)
    found = top_story(secs, issue.pinned)
    if found is None:
        return None
    sec, top = found
    rest = tuple(
        s for s in (replace(s, articles=tuple(a for a in s.articles if a.id != top.id)) for s in secs) if s.articles
    )
    return replace(
        issue,
        sections=rest,
        lead=replace(sec, articles=(top,)),
        subject=issue.subject if issue.subject_fixed else subject(issue.title, issue.end, secs, top),
        preheader=issue.preheader if keeps_promise(issue, secs) else preheader(secs),
    )


def keeps_promise(issue: NewIssue, secs: Sequence[Section]) -> bool:
    """Whether the editor's preheader is for the reader of ``secs``: it is when the reader gets every story
    it speaks of (an override that names none speaks of the whole issue)."""
    if not issue.preheader_fixed:
        return False
    about = set(issue.preheader_about) or {a.id for s in issue.sections for a in s.articles}
    return about <= {a.id for s in secs for a in s.articles}


def compose(
    articles: Sequence[Article], taxonomy: Taxonomy, *, title: str, when: datetime, start: datetime
) -> NewIssue | None:
    """The issue for the week of ``when``, or None when no article falls in the period. The same event
    reported by several sources is one article (``duplicates.merge``)."""
    from .duplicates import merge  # rapidfuzz: loaded by the build, not by every command that edits or lists

    secs = sections(merge(articles), taxonomy)
    if not secs:
        return None
    issue = NewIssue(week=week_key(when), title=title, subject="", preheader="", start=start, end=when, sections=secs)
    whole = variant(issue)
    assert whole is not None
    return replace(issue, subject=whole.subject, preheader=whole.preheader)
