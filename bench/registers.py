"""Precision and recall of the register-number finder on the labelled snippets of tests/data/registers.txt.

Usage: python bench/registers.py [LABELLED_FILE]

Targets: precision 1.00 on the snippets that hold no number (nothing linked there), recall ≥ 0.95 overall.
Prints every snippet whose links differ from its label.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.support.registers import DATA, load, score  # noqa: E402


def main() -> int:
    snippets = load(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
    overall, empty = score(snippets)
    without = sum(1 for s in snippets if not s.links)
    print(
        f"{len(snippets)} labelled snippets: {len(snippets) - without} with numbers "
        f"({sum(len(s.links) for s in snippets)} links), {without} without\n"
    )
    print(f"{'':<28} {'tp':>4} {'fp':>4} {'fn':>4}   {'precision':>9} {'recall':>6}   target")
    print(
        f"{'all snippets':<28} {overall.tp:>4} {overall.fp:>4} {overall.fn:>4}   "
        f"{overall.precision:>9.3f} {overall.recall:>6.3f}   recall >= 0.95"
    )
    clean = 1.0 if empty.fp == 0 else 0.0
    print(
        f"{'snippets without a number':<28} {'':>4} {empty.fp:>4} {'':>4}   {clean:>9.3f} {'':>6}   "
        "precision 1.00 (no link)"
    )
    ok = overall.recall >= 0.95 and empty.fp == 0
    print(f"\n{len(overall.misses)} snippets linked otherwise than labelled:")
    for s, got in overall.misses:
        print(f"  line {s.line}: {s.text!r}\n    missing {sorted(s.links - got)}\n    extra   {sorted(got - s.links)}")
    print("\ntargets met" if ok else "\ntargets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
