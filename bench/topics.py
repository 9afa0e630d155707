"""Precision and recall of the topic classifier on the labelled entries of tests/data/relevance.txt.

Usage: python bench/topics.py [LABELLED_FILE]

Prints, per topic and overall, how many entries it placed rightly (tp), wrongly (fp) and missed (fn),
then whether entries got into the issue at all, then every entry whose topics differ from its label.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.collect.topics import DEFAULT_TOPICS, Taxonomy  # noqa: E402
from tests.support.relevance import DATA, Score, load, score  # noqa: E402


def row(name: str, s: Score) -> str:
    return f"{name:<16} {s.tp:>4} {s.fp:>4} {s.fn:>4}   {s.precision:>9.3f} {s.recall:>6.3f}"


def main() -> None:
    entries = load(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
    report = score(Taxonomy(DEFAULT_TOPICS), entries)
    print(f"{len(entries)} labelled entries ({sum(1 for e in entries if not e.topics)} that should stay out)\n")
    print(f"{'topic':<16} {'tp':>4} {'fp':>4} {'fn':>4}   {'precision':>9} {'recall':>6}")
    for slug, s in report.by_topic.items():
        print(row(slug, s))
    print(row("overall", report.overall))
    print(row("in the issue", report.inclusion))
    print(f"\n{len(report.misses)} entries placed otherwise than labelled:")
    for entry, got in report.misses:
        want = ",".join(sorted(entry.topics)) or "-"
        print(f"  line {entry.line}: {entry.title!r}: labelled {want}, got {','.join(sorted(got)) or '-'}")


if __name__ == "__main__":
    main()
