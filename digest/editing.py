"""Editors' changes to a draft, kept as overrides so a rebuild keeps them (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .compose import preheader, subject
from .models import Article, NewIssue, Section

KINDS = ("exclude", "title", "summary", "pin", "order", "subject", "preheader")


@dataclass(frozen=True)
class Edit:
    kind: str
    target: str = ""
    value: str = ""


def _edit_article(article: Article, titles: dict[str, str], summaries: dict[str, str]) -> Article:
    key = str(article.id)
    return replace(article, title=titles.get(key, article.title), summary=summaries.get(key, article.summary))


def apply_edits(issue: NewIssue, edits: Iterable[Edit]) -> NewIssue:
    """The issue with exclusions, text edits, the pinned top story and section order applied."""
    edits = list(edits)
    excluded = {e.target for e in edits if e.kind == "exclude"}
    titles = {e.target: e.value for e in edits if e.kind == "title"}
    summaries = {e.target: e.value for e in edits if e.kind == "summary"}
    pinned = next((e.target for e in edits if e.kind == "pin"), None)
    order = next((e.value.split(",") for e in edits if e.kind == "order"), [])
    secs: list[Section] = []
    for sec in issue.sections:
        arts = [_edit_article(a, titles, summaries) for a in sec.articles if str(a.id) not in excluded]
        arts.sort(key=lambda a: str(a.id) != pinned)
        if arts:
            secs.append(replace(sec, articles=tuple(arts)))
    rank = {slug: i for i, slug in enumerate(order)}
    secs.sort(key=lambda s: rank.get(s.topic, len(rank)))
    if pinned is not None:
        secs.sort(key=lambda s: all(str(a.id) != pinned for a in s.articles))
    top = next((a for s in secs for a in s.articles if str(a.id) == pinned), None)
    custom_subject = next((e.value for e in edits if e.kind == "subject"), None)
    custom_preheader = next((e.value for e in edits if e.kind == "preheader"), None)
    return replace(
        issue, sections=tuple(secs),
        subject=custom_subject or subject(issue.title, issue.end, secs, top),
        preheader=custom_preheader or preheader(secs),
    )
