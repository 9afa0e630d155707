"""The searchable archive of sent stories, on the program's side: what each story is recorded with (its
register numbers in every form a reader may search by), and a reader's search turned into a Query.

The storage and the full-text search themselves are digest/db/archive.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict, Unpack

from ..db import Database
from ..db.archive import CODE, Hit, Query, Story
from ..models import Issue
from .registers import Number, find

__all__ = ["CODE", "Filters", "Hit", "complete", "record", "search", "stories_of"]  # CODE, Hit: for the web side

KIND = re.compile(r"(?<=\d)(?:[ABCUTYS]\d?|E)$")  # a publication's kind code after its number: B1, A2, U1, …
GROUPED = re.compile(r"(?<![\w.,])\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?![\w]|[.,]\d)")


def bare(n: Number) -> str:
    """The number without its kind code: what every publication of it begins with."""
    return KIND.sub("", n.number) if n.kind in ("patent", "application") else n.number


def forms(n: Number) -> tuple[str, ...]:
    """The ways a search may name ``n``: as written one way, without its kind code, the register's key,
    and the key's digits alone ("US10123456B2", "US10123456", "10123456")."""
    plain = KIND.sub("", n.key) if n.kind in ("patent", "application") else n.key
    digits = re.sub(r"\D", "", plain) if n.kind != "case" else ""
    found = [
        n.number,
        bare(n),
        n.key,
        digits if len(digits) >= 6 else "",
        digits.lstrip("0") if len(digits) >= 6 else "",
    ]
    return tuple(dict.fromkeys(f for f in found if f))


def stories_of(issue: Issue) -> list[Story]:
    """Each story of ``issue`` once, in the issue's order, with the forms of its numbers."""
    return [Story.of(a, numbers_of(a.title, a.summary)) for a in issue.articles]


def numbers_of(*texts: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for text in texts for n in find(text) for f in forms(n)))


def record(db: Database, issue: Issue, sent: datetime | None = None) -> int:
    """Put the stories of ``issue`` (which is starting to go out) in the archive, once."""
    return db.archive.record(issue.id, sent or issue.end, stories_of(issue))


def complete(db: Database) -> None:
    """Work out the numbers of the stories that the migration copied in from issues sent before it (or
    that an issue's status recorded without them). `digest search` and the web side at its start call it;
    one query when there is nothing to do."""
    if not db.archive.pending():
        return
    while batch := db.archive.unnumbered():
        db.archive.numbered({row: numbers_of(title, summary) for row, title, summary in batch})
    db.archive.done_numbering()


def search_text(text: str) -> str:
    """A reader's words with each register number written the one way the archive holds it (so "EP 3 512
    904" finds "EP3512904B1") and digit groups closed up ("10,123,456" → "10123456")."""
    out, at = [], 0
    for n in find(text):
        out += [text[at : n.start], f" {bare(n)} "]
        at = n.end
    out.append(text[at:])
    return GROUPED.sub(lambda m: re.sub(r"\D", "", m.group(0)), "".join(out))


def day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None


def day_after(day: date | None) -> datetime | None:
    """The end of a range that includes ``day``."""
    return datetime.combine(day + timedelta(days=1), time(), UTC) if day else None


class Filters(TypedDict, total=False):
    """What a search may narrow to, besides its words: ``start`` and ``end`` are days, both included;
    ``before`` pages on (the id of the last hit shown)."""

    topic: str | None
    jurisdiction: str | None
    source: str | None
    start: date | None
    end: date | None
    limit: int
    before: int | None


def search(db: Database, text: str = "", **filters: Unpack[Filters]) -> list[Hit]:
    """The sent stories that match, newest sent first; ``start`` and ``end`` are days, both included.
    Stories whose numbers are not worked out yet (see ``complete``) are found by their words only."""
    query = Query(
        text=search_text(text),
        topic=filters.get("topic") or None,
        jurisdiction=filters.get("jurisdiction") or None,
        source=filters.get("source") or None,
        start=day_start(filters.get("start")),
        end=day_after(filters.get("end")),
        limit=filters.get("limit", 20),
        before=filters.get("before"),
    )
    return db.archive.search(query)
