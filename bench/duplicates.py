"""Precision and recall of the near-duplicate merge on the labelled pairs of tests/data/duplicates.txt.

Usage: python bench/duplicates.py [LABELLED_FILE]

Word weights are learnt from all the pairs' texts together, as the merge learns them from a week's
articles. Prints the figures at the merge's threshold and at others around it, then the pairs it gets
wrong at its threshold.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.issue.duplicates import SAME_STORY, Comparer  # noqa: E402
from digest.issue.storyfacts import conflict, facts  # noqa: E402
from tests.support.duplicates import DATA, load  # noqa: E402


def figures(scored: list[tuple[float, bool]], threshold: float) -> tuple[float, float, int, int]:
    tp = sum(1 for s, same in scored if s >= threshold and same)
    fp = sum(1 for s, same in scored if s >= threshold and not same)
    fn = sum(1 for s, same in scored if s < threshold and same)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0), fp, fn


PRECISION_TARGET = 0.97
RECALL_TARGET = 0.90


def main() -> None:
    pairs = load(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
    comparer = Comparer([text for p in pairs for text in (p.a, p.b)])
    scored = [(comparer.similarity(p.a, p.b, p.title_a, p.title_b), p.same) for p in pairs]
    print(
        f"{len(pairs)} labelled pairs: {sum(p.same for p in pairs)} same event, "
        f"{sum(not p.same for p in pairs)} different events on the same topic\n"
    )
    print(f"{'threshold':>9} {'precision':>9} {'recall':>6} {'wrong merges':>12} {'missed':>6}")
    for threshold in sorted({SAME_STORY, 0.28, 0.30, 0.32, 0.36, 0.40}):
        precision, recall, fp, fn = figures(scored, threshold)
        mark = "  <- the merge's" if threshold == SAME_STORY else ""
        print(f"{threshold:>9.2f} {precision:>9.3f} {recall:>6.3f} {fp:>12} {fn:>6}{mark}")
    precision, recall, _, _ = figures(scored, SAME_STORY)
    hard = [(s, same) for p, (s, same) in zip(pairs, scored, strict=True) if p.hard]
    hard_p, hard_r, hard_fp, hard_fn = figures(hard, SAME_STORY)
    print(
        f"\nhard pairs ({len(hard)}: same parties in another case, one case at another stage, one event told "
        f"differently): precision {hard_p:.3f}, recall {hard_r:.3f} ({hard_fp} wrong merges, {hard_fn} missed)"
    )
    ok = precision >= PRECISION_TARGET and recall >= RECALL_TARGET
    print(
        f"at the merge's threshold: precision {precision:.3f} (target {PRECISION_TARGET}), recall {recall:.3f} "
        f"(target {RECALL_TARGET}): {'met' if ok else 'NOT met'}; load average {os.getloadavg()[0]:.2f}"
    )
    print("\nwrong at the merge's threshold:")
    for p, (score, same) in zip(pairs, scored, strict=True):
        if (score >= SAME_STORY) != same:
            kind = "missed" if same else "wrongly merged"
            why = conflict(facts(p.a, p.title_a), facts(p.b, p.title_b))
            print(f"  line {p.line}: {kind} ({score:.2f}{', ' + why if why else ''}): {p.a[:60]!r} / {p.b[:60]!r}")


if __name__ == "__main__":
    main()
