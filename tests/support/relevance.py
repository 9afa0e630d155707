"""The labelled feed entries of tests/data/relevance.txt, and how well the topic classifier places them."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from digest.collect.topics import Taxonomy

from .scores import Score

DATA = Path(__file__).resolve().parents[1] / "data" / "relevance.txt"


@dataclass(frozen=True)
class Labelled:
    line: int
    topics: frozenset[str]
    tags: tuple[str, ...]
    title: str
    lead: str
    family: str = "general"
    scope: str = "general"

    @property
    def held_out(self) -> bool:
        """One entry in four, fixed by its title: kept out of tuning, so the figure on these is honest."""
        return zlib.crc32(self.title.encode("utf-8")) % 4 == 0


@dataclass
class Report:
    by_topic: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    inclusion: Score = field(default_factory=Score)  # "in the issue at all", whatever the section
    misses: list[tuple[Labelled, frozenset[str]]] = field(default_factory=list)
    by_family: dict[str, Score] = field(default_factory=dict)  # "in the issue at all", per family
    exact: int = 0  # entries whose topics are exactly their label's
    total: int = 0

    @property
    def accuracy(self) -> float:
        """Topic accuracy: the share of entries placed in exactly the labelled topics (none for "-")."""
        return self.exact / self.total if self.total else 1.0


def _split(field_: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in field_.split(",") if x.strip() and x.strip() != "-")


def load(path: Path = DATA) -> list[Labelled]:
    """The labelled entries; "@family NAME" and "@scope ip|general" lines set those of the entries after them."""
    out = []
    family, scope = "general", "general"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@family "):
            family, scope = line.split(None, 1)[1].strip(), "general"
            continue
        if line.startswith("@scope "):
            scope = line.split(None, 1)[1].strip()
            continue
        parts = [part.strip() for part in line.split(" | ")]
        if len(parts) != 4:
            raise ValueError(f"{path}:{n}: expected 'topics | tags | title | lead', got {len(parts)} fields")
        topics, tags, title, lead = parts
        out.append(Labelled(n, frozenset(_split(topics)), _split(tags), title, lead, family, scope))
    return out


Classifier = Callable[[Labelled], Iterable[str]]


def by_taxonomy(taxonomy: Taxonomy) -> Classifier:
    return lambda entry: taxonomy.classify(entry.tags, entry.title, entry.lead, entry.scope)


def score(taxonomy: Taxonomy | Classifier, entries: Iterable[Labelled], slugs: Iterable[str] = ()) -> Report:
    """How ``taxonomy`` (or any classifier of labelled entries) places ``entries``."""
    classify = by_taxonomy(taxonomy) if isinstance(taxonomy, Taxonomy) else taxonomy
    if isinstance(taxonomy, Taxonomy):
        slugs = [t.slug for t in taxonomy.topics]
    report = Report({slug: Score() for slug in slugs})
    for entry in entries:
        got = frozenset(classify(entry))
        fam = report.by_family.setdefault(entry.family, Score())
        fam.tp += bool(got) and bool(entry.topics)
        fam.fp += bool(got) and not entry.topics
        fam.fn += not got and bool(entry.topics)
        report.total += 1
        report.exact += got == entry.topics
        for slug, s in report.by_topic.items():
            for into in (s, report.overall):
                into.tp += slug in got and slug in entry.topics
                into.fp += slug in got and slug not in entry.topics
                into.fn += slug not in got and slug in entry.topics
        report.inclusion.tp += bool(got) and bool(entry.topics)
        report.inclusion.fp += bool(got) and not entry.topics
        report.inclusion.fn += not got and bool(entry.topics)
        if got != entry.topics:
            report.misses.append((entry, got))
    return report
