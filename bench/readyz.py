"""GET /readyz at a million deliveries (not a test; prints figures against the target).

    python bench/readyz.py [--deliveries 1000000] [--requests 500]

1. A SQLite database in a temporary folder (as bench/send.py makes it) with 10,000 subscribers, one
   issue, and DELIVERIES delivery rows spread over copies of that issue (one row per issue and subscriber,
   a mix of statuses and feedback), written straight into the table.
2. The web app (create_app, as `digest serve` builds it) answers REQUESTS GET /readyz through Flask's
   test client, one after the other; each is timed from the call to the end of the body. Twice: with
   every request reading the database (READYZ_CACHE_SECONDS = 0), then as served (the answer kept 1 s).
3. Prints p50, p99 and the largest time against the target (p99 at most 5 ms), with the load average.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from send import prepare  # bench/send.py: the same database and issue

from digest.web import create_app

TARGET_MS = 5.0
SUBSCRIBERS = 10_000
STATUSES = ("sent", "sent", "sent", "failed", "deferred", "pending")


def fill(path: Path, deliveries: int) -> None:
    """``deliveries`` rows over copies of the one issue, 10,000 to an issue."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            (first,) = conn.execute("SELECT id FROM issues").fetchone()
            subscribers = [row[0] for row in conn.execute("SELECT id FROM subscribers ORDER BY id")]
            columns = [row[1] for row in conn.execute("PRAGMA table_info(issues)") if row[1] not in ("id", "week")]
            listed = ", ".join(columns)
            issues = [first]
            for n in range(1, -(-deliveries // len(subscribers))):
                cur = conn.execute(
                    f"INSERT INTO issues (week, {listed}) SELECT ?, {listed} FROM issues WHERE id = ?",
                    (f"B{n:05d}", first),
                )
                issues.append(int(cur.lastrowid or 0))
            rows = (
                (
                    issue,
                    sub,
                    STATUSES[(issue + sub) % len(STATUSES)],
                    1,
                    "complaint" if (issue * sub) % 997 == 0 else None,
                )
                for k, (issue, sub) in enumerate((i, s) for i in issues for s in subscribers)
                if k < deliveries
            )
            conn.executemany(
                "INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, feedback) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        (count,) = conn.execute("SELECT count(*) FROM deliveries").fetchone()
        assert count == deliveries, count
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = tmp / "digest.db"
        started = time.monotonic()
        d = prepare(f"sqlite:///{db}", None, tmp, SUBSCRIBERS)
        d.db.sources.record_fetch("https://news.example/feed.xml", "IP Wire")  # a collect ran: ready
        d.close()
        fill(db, args.deliveries)
        print(f"database: {args.deliveries:,} deliveries in {time.monotonic() - started:.0f} s")
        for label, cache in (("every request reads the database", 0.0), ("as served, answer kept 1 s", 1.0)):
            measure(create_app(d.settings, config={"READYZ_CACHE_SECONDS": cache}), args.requests, label)
        print(f"target: p99 <= {TARGET_MS:.0f} ms at {args.deliveries:,} deliveries")


def measure(app: Flask, requests: int, label: str) -> None:
    client = app.test_client()
    first = client.get("/readyz")
    assert first.status_code == 200, first.text
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        resp = client.get("/readyz")
        resp.get_data()
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
    times.sort()
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    verdict = "meets" if p99 <= TARGET_MS else "MISSES"
    print(
        f"GET /readyz x {requests} ({label}): p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.2f} ms: "
        f"{verdict} the target; load average {load}"
    )


if __name__ == "__main__":
    main()
