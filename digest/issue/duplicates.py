"""Near-duplicate stories: the same event reported by several sources under different URLs and headlines
becomes one article, from the best source, with "Also covered by" links to the others (pure).

Two reports are compared on the facts an IP story turns on (``storyfacts``: figures, case and patent
numbers, the right, the stage of the proceedings, the court or office, the place, the parties and marks):
one fact that both name and that disagrees keeps them apart, whatever their wording. Otherwise they are one
story when their IDF-weighted word overlap (IDF over the articles being compared, so a week's common words
such as "court" or "patent" count little and names, places and products count much), raised when they name
the same party and when they share a specific fact, reaches ``SAME_STORY``. Reports with no party in common
must first pass rapidfuzz's token-set ratio. The thresholds favour precision: a wrong merge hides a story, a
missed one only shows it twice. bench/duplicates.py measures both on labelled pairs."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz import fuzz, utils

from ..collect.topics import normalize_tag
from ..models import Article
from .storyfacts import conflict, facts, parties, shared

CANDIDATE = 60.0  # rapidfuzz token-set ratio (0-100) from which a pair is compared closely
SAME_STORY = 0.34  # IDF-weighted Jaccard overlap of content words from which a pair is one story
PARTY_BONUS = 0.2  # added to the overlap when both name the same party: names are what a story is about
FACT_BONUS = 0.1  # added when both name the same figure, city, case number, court or office
_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "by",
        "at",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "their",
        "his",
        "her",
        "that",
        "this",
        "after",
        "before",
        "over",
        "under",
        "into",
        "than",
        "but",
        "not",
        "said",
        "say",
        "new",
    }
)
_SUFFIXES = ("ing", "ed")


def _text(article: Article) -> str:
    return f"{article.title} {article.summary}"


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in normalize_tag(text).split() if len(w) > 1 and w not in _STOP)


class Comparer:
    """How surely two stories report one event: the facts they name (``storyfacts``) and the similarity of
    their texts, with word weights learnt from the texts it is given."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.words = [_words(t) for t in texts]
        self.df = Counter(w for ws in self.words for w in ws)
        self.n = len(texts)

    def idf(self, word: str) -> float:
        return math.log((self.n + 1) / (self.df[word] + 0.5))

    def overlap(self, a: str, b: str) -> float:
        """0..1: the IDF-weighted share of content words the two texts have in common."""
        wa, wb = _words(a), _words(b)
        union = sum(self.idf(w) for w in wa | wb)
        return sum(self.idf(w) for w in wa & wb) / union if union else 0.0

    def similarity(self, a: str, b: str, title_a: str = "", title_b: str = "") -> float:
        """0..1: how surely ``a`` and ``b`` (each a title followed by a lead; ``title_*`` say where the lead
        starts) report the same event. 0 when a fact both name disagrees; more when they name the same
        parties."""
        fa, fb = facts(a, title_a), facts(b, title_b)
        if conflict(fa, fb):
            return 0.0
        pa, pb = parties(fa, fb)
        bonus = (PARTY_BONUS if pa & pb else 0.0) + (FACT_BONUS if shared(fa, fb) else 0.0)
        if not pa & pb and fuzz.token_set_ratio(a, b, processor=utils.default_process) < CANDIDATE:
            return 0.0
        return min(1.0, self.overlap(a, b) + bonus)


def _best(group: list[Article]) -> Article:
    """The article whose summary says most, the earliest when equal."""
    return max(group, key=lambda a: (len(a.summary.split()), -a.published.timestamp(), -a.id))


def merge(articles: Sequence[Article]) -> list[Article]:
    """The articles with each group of same-event reports from different sources made one: the best
    report, its topics joined with the others', and the others as ``also`` (source, link)."""
    comparer = Comparer([_text(a) for a in articles])
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(articles):
        for j in range(i + 1, len(articles)):
            b = articles[j]
            if a.source != b.source and comparer.similarity(_text(a), _text(b), a.title, b.title) >= SAME_STORY:
                parent[root(j)] = root(i)
    groups: dict[int, list[Article]] = {}
    for i, a in enumerate(articles):
        groups.setdefault(root(i), []).append(a)
    out = []
    for group in groups.values():
        best = _best(group)
        others = [a for a in group if a is not best]
        if not others:
            out.append(best)
            continue
        topics = tuple(dict.fromkeys(t for a in [best, *others] for t in a.topics))
        also = {a.source: a.url for a in sorted(others, key=lambda a: a.published) if a.source != best.source}
        out.append(replace(best, topics=topics, also=(*best.also, *also.items())))
    return out
