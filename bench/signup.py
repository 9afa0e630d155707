"""Does a sign-up take the same time for a new address as for one already on the list? (not a test; prints
figures against the target)

    python bench/signup.py [--rounds 300] [--database sqlite|postgresql]

1. The web app (create_app, as `digest serve` builds it) on a SQLite file in a temporary folder, or on a
   fresh PostgreSQL database (tests/support/db.py, 127.0.0.1:5432), with 1,000 active subscribers; CSRF and
   the rate limits are off for the run (they cost the same on both paths), the confirmation mails go to
   .eml files in the outbox folder, as without SMTP_HOST.
2. ROUNDS times, in turn: POST /subscribe with a new address, then with an address already on the list
   (active); each request is timed from the call to the end of the body.
3. Prints the median and p90 of each, and the gap between the medians against the target (under 0.2 ms,
   a tenth of what the probe measured), with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.config import Settings
from digest.delivery.notices import drain
from digest.web import create_app
from subscribers.model import NewSubscriber

TARGET_MS = 0.2
PEOPLE = 1000


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'digest.db'}"
        return
    from tests.support.db import fresh_postgres

    with fresh_postgres("digest_bench") as url:
        yield url


def timed(client: object, email: str) -> float:
    t0 = time.perf_counter()
    resp = client.post("/subscribe", data={"email": email, "name": "A Reader"})  # type: ignore[attr-defined]
    resp.get_data()
    took = (time.perf_counter() - t0) * 1000
    assert resp.status_code == 200, resp.status_code
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, database(args.database, Path(folder)) as url:
        tmp = Path(folder)
        settings = Settings(  # type: ignore[call-arg]
            database_url=url,
            outbox_dir=tmp / "outbox",
            secret_key="bench-secret",
            base_url="https://digest.example.org",
            sender="IP Digest <digest@example.org>",
        )
        app = create_app(settings, config={"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        d = app.extensions["digest"].digest
        d.subscribers.add_many([NewSubscriber(f"member{i}@example.com") for i in range(PEOPLE)], basis="bench")
        client = app.test_client()
        for i in range(20):  # warm up both paths
            timed(client, f"warm{i}@example.net")
            timed(client, f"member{i}@example.com")
        new, known = [], []
        for i in range(args.rounds):
            new.append(timed(client, f"new{i}@example.net"))
            known.append(timed(client, f"member{(i * 7) % PEOPLE}@example.com"))
        drain()
        d.close()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    for label, times in (("new address", new), ("address on the list", known)):
        times.sort()
        p90 = times[int(len(times) * 0.9)]
        print(f"POST /subscribe, {label} x {args.rounds}: median {statistics.median(times):.2f} ms, p90 {p90:.2f} ms")
    gap = statistics.median(new) - statistics.median(known)
    verdict = "meets" if abs(gap) < TARGET_MS else "MISSES"
    print(
        f"gap between the medians ({args.database}): {gap:+.2f} ms; target under {TARGET_MS} ms: {verdict}; "
        f"load average {load}"
    )


if __name__ == "__main__":
    main()
