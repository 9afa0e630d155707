"""How fast returned mail is understood and applied.

Usage: python bench/bounces.py [ROUNDS]

Parses every fixture of tests/data/bounces ROUNDS times (default 20) and prints the time per report by
detector; then applies 2,000 VERP-matched hard bounces to a SQLite database of 2,000 deliveries and
prints the rate (one transaction per report on one connection, as `digest bounces` does).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from digest.bounces.parse import parse
from digest.bounces.policy import Event, Policy
from digest.bounces.verp import DeliveryRef
from digest.db import Database
from digest.models import DeliveryStatus
from subscribers.store import NewSubscriber

ROOT = Path(__file__).resolve().parents[1]


def parsing(rounds: int) -> None:
    times: dict[str, list[float]] = defaultdict(list)
    for path in sorted((ROOT / "tests" / "data" / "bounces").glob("*.eml")):
        data = path.read_bytes()
        detector = parse(data).detector
        start = time.perf_counter()
        for _ in range(rounds):
            parse(data)
        times[detector].append((time.perf_counter() - start) / rounds)
    for detector, values in sorted(times.items()):
        print(
            f"parse {detector:13} {len(values):3} reports: median {statistics.median(values) * 1e3:.2f} ms, "
            f"max {max(values) * 1e3:.2f} ms"
        )


def applying(n: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.subscribers.add_many([NewSubscriber(f"s{i}@example.com") for i in range(n)])
        from tests.support.data import make_issue

        issue = make_issue(db, "2026-W40", "sending")
        outbox = db.deliveries.outbox(issue.id, "bench:1:a", timedelta(minutes=5))
        outbox.enqueue()
        conn = outbox.connect()
        ids = []
        for row_id, _, sub in outbox.claim(conn, n):
            outbox.record(conn, row_id, DeliveryStatus.SENT, tried=True, code=250)
            ids.append(sub.id)
        conn.close()
        start = time.perf_counter()
        with db.feedback.connection() as conn:
            for sid in ids:
                db.feedback.apply(
                    Event("mail", f"k{sid}", "hard", "5.1.1", ref=DeliveryRef(issue.id, sid)), Policy(), conn=conn
                )
        seconds = time.perf_counter() - start
        print(f"apply {n} hard bounces (SQLite, one commit each): {seconds:.2f} s, {n / seconds:.0f} per second")
        db.close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    parsing(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    applying()
