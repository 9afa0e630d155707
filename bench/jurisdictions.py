"""Precision and recall of jurisdiction detection on the labelled articles of tests/data/jurisdictions.txt.

Usage: python bench/jurisdictions.py [LABELLED_FILE]

Prints, per jurisdiction (most frequent first), how many articles it was found in rightly (tp), wrongly
(fp) and missed in (fn), against the target of 0.95 precision and recall for each of the ten most
frequent; then "names none" as a class of its own, and every article whose codes differ from its label.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.collect.jurisdictions import Jurisdictions  # noqa: E402
from tests.support.jurisdictions import DATA, TARGET, Score, largest, load, score  # noqa: E402


def row(name: str, s: Score, mark: str = "") -> str:
    return f"{name:<12} {s.tp:>4} {s.fp:>4} {s.fn:>4}   {s.precision:>9.3f} {s.recall:>6.3f}  {mark}"


def main() -> None:
    entries = load(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
    started = time.perf_counter()
    table = Jurisdictions()
    built = time.perf_counter() - started
    started = time.perf_counter()
    report = score(table, entries)
    per_entry = (time.perf_counter() - started) / len(entries)
    top = largest(entries)
    none = sum(1 for e in entries if not e.codes)
    print(f"load average {os.getloadavg()[0]:.2f}; {len(entries)} labelled articles ({none} naming none)")
    print(f"table built in {built * 1000:.0f} ms; {per_entry * 1e6:.0f} us per article\n")
    print(f"{'code':<12} {'tp':>4} {'fp':>4} {'fn':>4}   {'precision':>9} {'recall':>6}  target {TARGET} (ten largest)")
    ordered = sorted(report.by_code.items(), key=lambda kv: (kv[0] not in top, -(kv[1].tp + kv[1].fn), kv[0]))
    failing = 0
    for code, s in ordered:
        mark = ""
        if code in top:
            ok = s.precision >= TARGET and s.recall >= TARGET
            failing += not ok
            mark = "ok" if ok else "BELOW TARGET"
        print(row(code, s, mark))
    print(row("overall", report.overall))
    print(row("names none", report.none))
    print(f"\nten largest: {', '.join(top)}; {10 - failing} of 10 meet the target")
    print(f"\n{len(report.misses)} articles found otherwise than labelled:")
    for entry, got in report.misses:
        want = ",".join(sorted(entry.codes)) or "-"
        print(f"  line {entry.line}: {entry.title!r}: labelled {want}, got {','.join(sorted(got)) or '-'}")


if __name__ == "__main__":
    main()
