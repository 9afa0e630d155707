"""Precision and recall of the topic classifier on the labelled entries of tests/data/relevance.txt, or on the
articles editors kept and excluded as off topic.

Usage: python bench/topics.py [LABELLED_FILE] [--split all|tune|held-out] [--misses]
       python bench/topics.py --editor-labels [--database URL]

Prints, per topic and overall, how many entries it placed rightly (tp), wrongly (fp) and missed (fn), whether
entries got into the issue at all, per family, and topic accuracy (entries placed in exactly their topics),
for the whole set, the entries the rules were tuned on, and the held-out quarter, against the targets.
With --editor-labels: the articles editors excluded as "off topic" are the negatives and the articles of
sent issues that no editor excluded the positives; the figure says how the filter as it is now would place them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.collect.topics import DEFAULT_TOPICS, Taxonomy  # noqa: E402
from tests.support.relevance import DATA, Labelled, Report, Score, load, score  # noqa: E402

TARGET_PRECISION, TARGET_RECALL, TARGET_ACCURACY = 0.95, 0.95, 0.97


def row(name: str, s: Score) -> str:
    return f"{name:<28} {s.tp:>4} {s.fp:>4} {s.fn:>4}   {s.precision:>9.3f} {s.recall:>6.3f}"


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "BELOW the target"


def show(title: str, report: Report, families: bool = True) -> None:
    print(f"\n== {title}: {report.total} entries")
    print(f"{'topic':<28} {'tp':>4} {'fp':>4} {'fn':>4}   {'precision':>9} {'recall':>6}")
    for slug, s in report.by_topic.items():
        print(row(slug, s))
    print(row("overall (topics)", report.overall))
    print(row("in the issue", report.inclusion))
    if families:
        print(f"\n{'family (in the issue)':<28} {'tp':>4} {'fp':>4} {'fn':>4}   {'precision':>9} {'recall':>6}")
        for family, s in sorted(report.by_family.items()):
            print(row(family, s))
    inc = report.inclusion
    print(
        f"\nin the issue: precision {inc.precision:.3f} ({verdict(inc.precision >= TARGET_PRECISION)} "
        f"{TARGET_PRECISION}), recall {inc.recall:.3f} ({verdict(inc.recall >= TARGET_RECALL)} {TARGET_RECALL}); "
        f"topic accuracy {report.accuracy:.3f} ({verdict(report.accuracy >= TARGET_ACCURACY)} {TARGET_ACCURACY})"
    )


def labelled_sets(path: Path, split: str, misses: bool) -> None:
    entries = load(path)
    taxonomy = Taxonomy(DEFAULT_TOPICS)
    out = sum(1 for e in entries if not e.topics)
    print(f"{len(entries)} labelled entries ({out} that should stay out); load average {os.getloadavg()[0]:.2f}")
    chosen: list[tuple[str, list[Labelled]]] = [
        ("all entries", entries),
        ("tuned on (three quarters)", [e for e in entries if not e.held_out]),
        ("held out (one quarter, never tuned on)", [e for e in entries if e.held_out]),
    ]
    if split != "all":
        chosen = [chosen[1] if split == "tune" else chosen[2]]
    for title, subset in chosen:
        report = score(taxonomy, subset)
        show(title, report)
        if misses:
            print(f"\n{len(report.misses)} entries placed otherwise than labelled:")
            for entry, got in report.misses:
                want = ",".join(sorted(entry.topics)) or "-"
                print(f"  line {entry.line}: {entry.title!r}: labelled {want}, got {','.join(sorted(got)) or '-'}")


def editor_labels(database_url: str) -> None:
    from digest.db import Database
    from digest.models import IssueStatus

    db = Database(database_url)
    labels = db.topic_labels.all()
    off = {label.article_id for label in labels}
    sent = db.issues.with_status((IssueStatus.SENT,))
    kept = list({a.id: a for issue in sent for a in issue.articles if a.id not in off}.values())
    taxonomy = Taxonomy(DEFAULT_TOPICS)
    entries = [
        Labelled(0, frozenset(), label.tags, label.title, label.lead, "off topic", label.scope) for label in labels
    ]
    entries += [Labelled(0, frozenset(a.topics), (), a.title, a.summary, "kept", "general") for a in kept]
    print(
        f"{len(labels)} articles editors excluded as off topic, {len(kept)} articles of sent issues kept; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if not entries:
        print("no labels yet: exclude articles with the reason 'off topic' (web or `digest issue exclude N --reason`)")
        return
    show("editor labels", score(taxonomy, entries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DATA)
    parser.add_argument("--split", choices=("all", "tune", "held-out"), default="all")
    parser.add_argument("--misses", action="store_true", help="list every entry placed otherwise than labelled")
    parser.add_argument("--editor-labels", action="store_true", help="measure against editors' off-topic labels")
    parser.add_argument("--database", default=os.environ.get("DIGEST_DATABASE_URL", "sqlite:///digest.db"))
    args = parser.parse_args()
    if args.editor_labels:
        editor_labels(args.database)
    else:
        labelled_sets(args.file, args.split, args.misses)


if __name__ == "__main__":
    main()
