"""The labelled snippets of tests/data/registers.txt, and how the finder scores on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from digest.issue.registers import find

DATA = Path(__file__).resolve().parents[1] / "data" / "registers.txt"


@dataclass(frozen=True)
class Snippet:
    line: int
    text: str
    links: frozenset[str]  # the URLs expected


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[tuple[Snippet, frozenset[str]]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load(path: Path = DATA) -> list[Snippet]:
    """The snippets; the expected URLs are made from the file's own "@" templates, not the finder's."""
    templates: dict[str, str] = {}
    snippets: list[Snippet] = []
    text, line, links = "", 0, set[str]()

    def close() -> None:
        if text:
            snippets.append(Snippet(line, text, frozenset(links)))

    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if raw.startswith("#"):
            continue
        if raw.startswith("@ "):
            name, template = raw[2:].split(" ", 1)
            templates[name] = template
        elif raw.startswith("= "):
            register, key = raw[2:].split(" ", 1)
            if not text or register not in templates:
                raise ValueError(f"{path}:{n}: a link without a snippet, or an unknown register {register!r}")
            links.add(templates[register].format(quote(key, safe="")))
        elif not raw.strip():
            close()
            text, links = "", set()
        elif text:
            raise ValueError(f"{path}:{n}: a snippet is one line; separate snippets by a blank line")
        else:
            text, line = raw, n
    close()
    return snippets


def score(snippets: list[Snippet]) -> tuple[Score, Score]:
    """The scores over every snippet, and over the snippets that hold no number (only false links count)."""
    overall, empty = Score(), Score()
    for s in snippets:
        got = frozenset(n.url for n in find(s.text))
        for sc in (overall, empty) if not s.links else (overall,):
            sc.tp += len(got & s.links)
            sc.fp += len(got - s.links)
            sc.fn += len(s.links - got)
        if got != s.links:
            overall.misses.append((s, got))
    return overall, empty
