"""Score digest.collect.extract against the Zyte article-extraction benchmark.

Usage: python bench/extract.py [CORPUS_DIR]

CORPUS_DIR defaults to ../shared/corpus/article-extraction-benchmark next to the project. Prints
precision, recall and F1 over all pages, on single tokens and on the benchmark's own 4-token
shingles, for digest.collect.extract.extract_paragraphs and for bare trafilatura.extract as a reference.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.collect.extract import extract_paragraphs  # noqa: E402

DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+")

Extractor = Callable[[str], str]


@dataclass(frozen=True)
class Counts:
    tp: float
    fp: float
    fn: float


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    mean_page_f1: float


def shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def match(true: str, pred: str, n: int) -> Counts:
    """TP/FP/FN of n-token shingles, normalised so every page weighs the same."""
    expected, got = shingles(true, n), shingles(pred, n)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    return Counts(tp / total, fp / total, fn / total) if total else Counts(0.0, 0.0, 0.0)


def _precision(c: Counts) -> float:
    if c.fp == c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0


def _recall(c: Counts) -> float:
    if c.fp == c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(pages: list[Counts]) -> Scores:
    """Benchmark-style figures: mean precision and mean recall, F1 of those means."""
    precision = statistics.mean(_precision(c) for c in pages)
    recall = statistics.mean(_recall(c) for c in pages)
    page_f1 = statistics.mean(_f1(_precision(c), _recall(c)) for c in pages)
    return Scores(precision, recall, _f1(precision, recall), page_f1)


def load_pages(corpus: Path) -> list[tuple[str, str]]:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for path in sorted((corpus / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        pages.append((html, str(truth[key].get("articleBody", ""))))
    return pages


def digest_extractor(html: str) -> str:
    return "\n".join(extract_paragraphs(html))


def trafilatura_extractor(html: str) -> str:
    return trafilatura.extract(html, include_comments=False) or ""


def report(name: str, extractor: Extractor, pages: list[tuple[str, str]]) -> None:
    started = time.perf_counter()
    predictions = [extractor(html) for html, _ in pages]
    elapsed = time.perf_counter() - started
    empty = sum(1 for text in predictions if not text.strip())
    print(f"{name}  ({len(pages)} pages, {empty} empty, {elapsed:.1f}s)")
    for label, n in (("tokens", 1), ("4-shingles", 4)):
        s = score([match(true, pred, n) for (_, true), pred in zip(pages, predictions, strict=True)])
        print(
            f"  {label:<11} precision={s.precision:.3f}  recall={s.recall:.3f}  "
            f"F1={s.f1:.3f}  mean page F1={s.mean_page_f1:.3f}"
        )


def main(argv: list[str]) -> int:
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    if not (corpus / "ground-truth.json").is_file():
        print(f"benchmark corpus not found at {corpus}", file=sys.stderr)
        return 1
    pages = load_pages(corpus)
    report("digest.collect.extract.extract_paragraphs", digest_extractor, pages)
    report("trafilatura.extract (defaults, reference)", trafilatura_extractor, pages)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
