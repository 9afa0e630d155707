"""The labelled articles of tests/data/jurisdictions.txt, and how well the detector finds their jurisdictions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from digest.collect.jurisdictions import Jurisdictions

from .scores import Score

DATA = Path(__file__).resolve().parents[1] / "data" / "jurisdictions.txt"
TOP = 10  # the jurisdictions held to the target: the ten most frequent in the labelled set
TARGET = 0.95


@dataclass(frozen=True)
class Labelled:
    line: int
    codes: frozenset[str]
    tags: tuple[str, ...]
    title: str
    lead: str


@dataclass
class Report:
    by_code: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    none: Score = field(default_factory=Score)  # "names no jurisdiction", as a class of its own
    misses: list[tuple[Labelled, frozenset[str]]] = field(default_factory=list)


def _split(field_: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in field_.split(",") if x.strip() and x.strip() != "-")


def load(path: Path = DATA) -> list[Labelled]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        codes, tags, title, lead = (part.strip() for part in line.split(" | "))
        out.append(Labelled(n, frozenset(_split(codes)), _split(tags), title, lead))
    return out


def largest(entries: Iterable[Labelled], n: int = TOP) -> list[str]:
    """The ``n`` codes that label the most entries."""
    counts = Counter(code for e in entries for code in e.codes)
    return [code for code, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def score(table: Jurisdictions, entries: Iterable[Labelled]) -> Report:
    report = Report()
    for entry in entries:
        got = frozenset(table.detect(entry.title, entry.lead, entry.tags))
        for code in got | entry.codes:
            s = report.by_code.setdefault(code, Score())
            for into in (s, report.overall):
                into.tp += code in got and code in entry.codes
                into.fp += code in got and code not in entry.codes
                into.fn += code not in got and code in entry.codes
        report.none.tp += not got and not entry.codes
        report.none.fp += not got and bool(entry.codes)
        report.none.fn += bool(got) and not entry.codes
        if got != entry.codes:
            report.misses.append((entry, got))
    return report
