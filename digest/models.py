"""Plain data passed between the stages: entries from feeds, stored articles, issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class IssueStatus(StrEnum):
    """Where an issue stands: built (draft), being sent, sent, or skipped (its articles roll forward)."""

    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"


class DeliveryStatus(StrEnum):
    """One (issue, subscriber) row of the outbox; see digest/deliver.py for the transitions."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"


class Feedback(StrEnum):
    """What came back about a delivered message: a hard or soft bounce, or a spam complaint."""

    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class Entry:
    """One item as a feed gave it, before extraction and tagging."""

    source: str
    guid: str
    url: str
    title: str
    published: datetime | None
    tags: tuple[str, ...] = ()
    content_html: str = ""
    excerpt_html: str = ""


@dataclass(frozen=True)
class NewArticle:
    """A tagged, summarized article, as collect makes it before it is stored."""

    guid: str
    url: str
    canonical_url: str
    title: str
    source: str
    published: datetime
    summary: str
    topics: tuple[str, ...]
    words: int = 0  # the article's length, for its reading time; 0: not known (only an excerpt was read)
    jurisdictions: tuple[str, ...] = ()  # codes (digest/jurisdictions.py); () when it names none


@dataclass(frozen=True, kw_only=True)
class Article(NewArticle):
    """A stored article, as shown in an issue: its id is what editors' overrides name."""

    id: int
    also: tuple[tuple[str, str], ...] = ()  # the same story from other sources: (source, link)

    @property
    def sources(self) -> int:
        """How many sources carried the story."""
        return 1 + len(self.also)


@dataclass(frozen=True)
class Section:
    topic: str
    name: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class NewIssue:
    """A weekly issue as compose builds it, before it is stored; render turns either kind into an email."""

    week: str
    title: str
    subject: str
    preheader: str
    start: datetime
    end: datetime
    sections: tuple[Section, ...]
    overflow: int = 0
    pinned: int | None = None  # the editor's top story (an article id)
    subject_fixed: bool = False  # the editor wrote the subject: every variant keeps it
    preheader_fixed: bool = False
    preheader_about: tuple[int, ...] = ()  # the stories the editor's preheader speaks of (article ids)
    lead: Section | None = None  # in a reader's variant: the top story and its topic, above the sections

    @property
    def articles(self) -> list[Article]:
        """Each article once (one may sit in the section of each of its topics), in section order."""
        seen: dict[int, Article] = {}
        for a in [a for s in (self.lead, *self.sections) if s for a in s.articles]:
            seen.setdefault(a.id, a)
        return list(seen.values())


@dataclass(frozen=True, kw_only=True)
class Issue(NewIssue):
    """A stored issue: it has an id and a status."""

    id: int
    status: IssueStatus


@dataclass
class SourceReport:
    """What collecting one source did."""

    name: str
    url: str
    ok: bool = True
    error: str = ""
    not_modified: bool = False
    entries: int = 0
    new: int = 0
    kept: int = 0
    skipped: list[str] = field(default_factory=list)


def counted(n: int, noun: str) -> str:
    """'1 article', '2 articles': a count and its noun, singular for one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class Edit:
    """An editor's override on a week's issue: exclude an article, retitle it, pin it, reorder sections …"""

    kind: str
    target: str = ""
    value: str = ""


@dataclass(frozen=True)
class Click:
    """One request on a tracked link (/r/…): which article, whose (when the link names its reader), when."""

    article_id: int
    subscriber_id: int | None
    at: datetime
    head: bool = False
    scanner_agent: bool = False


# A delivery keeps the strongest feedback that came back about it: a complaint beats a bounce.
FEEDBACK_RANK = {Feedback.SOFT: 1, Feedback.HARD: 2, Feedback.COMPLAINT: 3}
