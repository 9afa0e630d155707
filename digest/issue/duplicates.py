"""Near-duplicate stories: the same event reported by several sources under different URLs and headlines
becomes one article, from the best source, with "Also covered by" links to the others (pure).

Two articles from different sources are one story when rapidfuzz's token-set ratio of their title and
summary is high enough to be worth a closer look, and their IDF-weighted word overlap (IDF over the
articles being compared, so a week's common words such as "court" or "patent" count little and names,
places and products count much) reaches ``SAME_STORY``; numbers that both mention and that disagree
("30 sites" and "12 sites") keep them apart. The thresholds favour precision: a wrong merge hides a
story, a missed one only shows it twice. bench/duplicates.py measures both on labelled pairs."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz import fuzz, utils

from ..collect.topics import normalize_tag
from ..models import Article

CANDIDATE = 60.0  # rapidfuzz token-set ratio (0-100) from which a pair is compared closely
SAME_STORY = 0.36  # IDF-weighted Jaccard overlap of content words from which a pair is one story
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
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_UNITS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
_TENS = ("thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_NUMBER_WORDS = {w: str(n) for n, w in enumerate(_UNITS)} | {w: str(30 + 10 * n) for n, w in enumerate(_TENS)}
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


def _numbers(text: str) -> frozenset[str]:
    """The numbers a text mentions, in figures or in words ("30", "thirty")."""
    words = normalize_tag(text).split()
    return frozenset(n.replace(",", "") for n in _NUMBER.findall(text)) | {
        _NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS
    }


class Comparer:
    """Similarity of texts, with word weights learnt from the texts it is given."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.words = [_words(t) for t in texts]
        self.df = Counter(w for ws in self.words for w in ws)
        self.n = len(texts)

    def idf(self, word: str) -> float:
        return math.log((self.n + 1) / (self.df[word] + 0.5))

    def similarity(self, a: str, b: str) -> float:
        """0..1: how surely ``a`` and ``b`` report the same event."""
        na, nb = _numbers(a), _numbers(b)
        if na and nb and not na & nb:
            return 0.0
        if fuzz.token_set_ratio(a, b, processor=utils.default_process) < CANDIDATE:
            return 0.0
        wa, wb = _words(a), _words(b)
        union = sum(self.idf(w) for w in wa | wb)
        return sum(self.idf(w) for w in wa & wb) / union if union else 0.0


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
            if a.source != b.source and comparer.similarity(_text(a), _text(b)) >= SAME_STORY:
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
