"""Time a subscriber CSV import: N rows (default 100,000) into a fresh database, then the same file again.

Usage: python bench/import.py [ROWS] [--database-url URL] [--semicolon] [--bom] [--against DIR [--repeat N]]

Writes the CSV into a temporary folder, imports it with subscribers.csvio.import_csv into a new SQLite
database (or URL, whose subscribers table is emptied first), and prints the seconds each pass took
and the process's peak resident memory after it; the second pass finds every address already stored
and adds none. The import streams, so the peak stays flat whatever ROWS is.

With ``--against DIR`` (an earlier checkout, e.g. ``git worktree add /tmp/old COMMIT``) it instead runs
that checkout's bench/import.py and this one, each in a process of its own, alternately N times into
new SQLite files, and prints each first import's rows/s, their medians and the median ratio new/old of the pairs.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.collect.topics import DEFAULT_TOPICS  # noqa: E402
from digest.db import Database  # noqa: E402
from digest.db import tables as t  # noqa: E402
from subscribers.csvio import import_csv  # noqa: E402
from subscribers.table import subscriber_events  # noqa: E402

TOPICS = [topic.slug for topic in DEFAULT_TOPICS]


def write_csv(path: Path, rows: int, delimiter: str, bom: bool) -> None:
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        fh.write(delimiter.join(["email", "name", "topics"]) + "\r\n")
        for i in range(rows):
            topics = "|".join(TOPICS[j % len(TOPICS)] for j in range(i % 3))
            fh.write(f"Reader.{i}@Example{i % 97}.org{delimiter}Reader Number {i}{delimiter}{topics}\r\n")


def peak_mb() -> float:
    """The process's peak resident set size so far, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def first_import(script: Path, rows: int) -> tuple[float, str]:
    """Run ``script`` (a bench/import.py) with its own folder first on sys.path: (rows/s, its output line)."""
    out = subprocess.run(
        [sys.executable, str(script), str(rows)], capture_output=True, text=True, check=True, cwd=script.parents[1]
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("first import"))
    found = re.search(r"\(([\d,]+) rows/s\)", line)
    assert found, line
    return float(found[1].replace(",", "")), line


def side_by_side(old: Path, rows: int, repeat: int) -> None:
    script = old / "bench" / "import.py"
    if not script.is_file():
        sys.exit(f"{script} not found: give --against the folder of a checkout, e.g. git worktree add /tmp/old COMMIT")
    speeds: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(repeat):
        for label, path in (("old", script), ("new", Path(__file__).resolve())):
            speed, line = first_import(path, rows)
            speeds[label].append(speed)
            print(f"{i + 1} {label}: {line}", flush=True)
    old_rate, new_rate = statistics.median(speeds["old"]), statistics.median(speeds["new"])
    # Each pair ran back to back, under about the same load: the median of their ratios is the steadier figure.
    ratio = statistics.median(n / o for o, n in zip(speeds["old"], speeds["new"], strict=True))
    print(
        f"median of {repeat} at {rows} rows: old {old_rate:,.0f} rows/s, new {new_rate:,.0f} rows/s; "
        f"median new/old of each pair {ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=100_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--semicolon", action="store_true", help="';' between fields instead of ','")
    parser.add_argument("--bom", action="store_true", help="start the file with a UTF-8 byte-order mark")
    parser.add_argument("--against", type=Path, metavar="DIR", help="an earlier checkout to compare with")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs each with --against (default 3)")
    args = parser.parse_args()
    if args.against:
        side_by_side(args.against, args.rows, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "readers.csv"
        write_csv(csv_path, args.rows, ";" if args.semicolon else ",", args.bom)
        db = Database(args.database_url or f"sqlite:///{tmp}/bench.db")
        with db.begin() as conn:
            conn.execute(subscriber_events.delete())
            conn.execute(t.subscribers.delete())
        subs = db.subscribers
        size = csv_path.stat().st_size / 1e6
        print(f"{args.rows} rows, {size:.1f} MB, {db.engine.dialect.name}")
        for label in ("first import", "same file again"):
            started = time.perf_counter()
            report = import_csv(csv_path, subs, TOPICS, "benchmark readers")
            seconds = time.perf_counter() - started
            print(
                f"{label}: {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s); {report.added} added, "
                f"{report.duplicates} already on the list, {len(report.rejected)} rejected; "
                f"peak RSS {peak_mb():.0f} MB"
            )
        db.close()


if __name__ == "__main__":
    main()
