"""The labelled feed entries of tests/data/relevance.txt, and how well the topic classifier places them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from digest.collect.topics import Taxonomy

DATA = Path(__file__).resolve().parents[1] / "data" / "relevance.txt"


@dataclass(frozen=True)
class Labelled:
    line: int
    topics: frozenset[str]
    tags: tuple[str, ...]
    title: str
    lead: str


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    by_topic: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    inclusion: Score = field(default_factory=Score)  # "in the issue at all", whatever the section
    misses: list[tuple[Labelled, frozenset[str]]] = field(default_factory=list)


def _split(field_: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in field_.split(",") if x.strip() and x.strip() != "-")


def load(path: Path = DATA) -> list[Labelled]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        topics, tags, title, lead = (part.strip() for part in line.split(" | "))
        out.append(Labelled(n, frozenset(_split(topics)), _split(tags), title, lead))
    return out


def score(taxonomy: Taxonomy, entries: Iterable[Labelled]) -> Report:
    report = Report({t.slug: Score() for t in taxonomy.topics})
    for entry in entries:
        got = frozenset(taxonomy.classify(entry.tags, entry.title, entry.lead))
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
