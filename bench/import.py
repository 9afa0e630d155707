"""Time a subscriber CSV import: N rows (default 100,000) into a fresh database, then the same file again.

Usage: python bench/import.py [ROWS] [--database-url URL] [--semicolon] [--bom]

Writes the CSV into a temporary folder, imports it with subscribers.csvio.import_csv into a new SQLite
database (or URL, whose subscribers table is emptied first), and prints the seconds each pass took
and the process's peak resident memory after it; the second pass finds every address already stored
and adds none. The import streams, so the peak stays flat whatever ROWS is.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.db import Database  # noqa: E402
from digest.db import tables as t  # noqa: E402
from digest.topics import DEFAULT_TOPICS  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=100_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--semicolon", action="store_true", help="';' between fields instead of ','")
    parser.add_argument("--bom", action="store_true", help="start the file with a UTF-8 byte-order mark")
    args = parser.parse_args()
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
            print(f"{label}: {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s); {report.added} added, "
                  f"{report.duplicates} already on the list, {len(report.rejected)} rejected; "
                  f"peak RSS {peak_mb():.0f} MB")
        db.close()


if __name__ == "__main__":
    main()
