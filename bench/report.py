"""Time an issue's report and a metrics scrape over a large send: N readers (default 20,000), each delivered,
and clicks from a third of them (one to four links each, some in bursts).

Usage: python bench/report.py [READERS] [--database-url URL]

Fills a new SQLite database (or URL, which must be empty) with one sent issue of ten articles, N delivered
rows and the click rows, then prints the seconds that `issue_report` and one metrics scrape take.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

from prometheus_client import generate_latest  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from support.data import sample_issue  # noqa: E402

from digest.config import Settings  # noqa: E402
from digest.db import tables as t  # noqa: E402
from digest.facade import Digest  # noqa: E402
from digest.models import IssueStatus  # noqa: E402
from digest.ops.metrics import registry  # noqa: E402
from digest.ops.reports import issue_report  # noqa: E402
from subscribers.clock import now  # noqa: E402
from subscribers.store import NewSubscriber  # noqa: E402


def fill(d: Digest, readers: int) -> int:
    issue = d.db.issues.save_draft(sample_issue())
    d.db.issues.set_status(issue.id, IssueStatus.SENDING)
    d.db.issues.set_status(issue.id, IssueStatus.SENT)
    d.subscribers.add_many([NewSubscriber(f"reader{i}@example.org") for i in range(readers)])
    at = now()
    ids = [a.id for a in issue.articles]
    with d.db.begin() as conn:
        conn.execute(
            insert(t.deliveries),
            [
                {"issue_id": issue.id, "subscriber_id": who, "status": "sent", "attempts": 1, "updated_at": at}
                for who in range(1, readers + 1)
            ],
        )
        rows = []
        for who in range(1, readers + 1, 3):
            burst = who % 30 == 1
            for k in range(1 + who % 4 if not burst else len(ids)):
                when = at + (timedelta(seconds=k) if burst else timedelta(minutes=5 + k))
                rows.append(
                    {
                        "issue_id": issue.id,
                        "article_id": ids[k % len(ids)],
                        "subscriber_id": who,
                        "clicked_at": when,
                        "head": False,
                        "scanner_agent": False,
                    }
                )
        conn.execute(insert(t.clicks), rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readers", type=int, nargs="?", default=20_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        d = Digest(Settings(database_url=url, secret_key="bench", outbox_dir=Path(tmp) / "outbox"))
        try:
            clicks = fill(d, args.readers)
            issue = d.db.issues.latest((IssueStatus.SENT,))
            assert issue is not None
            started = time.perf_counter()
            rep = issue_report(d, issue)
            report_s = time.perf_counter() - started
            started = time.perf_counter()
            generate_latest(registry(d.db.health))
            scrape_s = time.perf_counter() - started
        finally:
            d.close()
    print(
        f"{args.readers} deliveries, {clicks} click rows: report {report_s:.3f} s "
        f"({rep.clicks} counted, {sum(rep.apart.values())} apart); metrics scrape {scrape_s:.3f} s"
    )


if __name__ == "__main__":
    main()
