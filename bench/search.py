"""Archive search latency over many sent stories, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Usage: python bench/search.py [--stories 100000] [--queries 330] [--only sqlite|postgresql]

Fills a fresh database with synthetic sent stories (2,000-odd issues of 50: Zipf-distributed words, IP
terms, sources, topics, jurisdictions, and a register number in about a third of them), then times the
searches a reader makes through digest.issue.archive.search (the path of the web page and `digest search`):
one word, two words, a rare word, a register number written another way, a topic or a jurisdiction alone,
words with a filter, a date range, a source, and words that match nothing. Prints p50, p95 and the slowest
per database against the target (p95 under 50 ms), with the load average beside them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from sqlalchemy import insert  # noqa: E402

from digest.db import Database  # noqa: E402
from digest.db import tables as t  # noqa: E402
from digest.db.archive import Story  # noqa: E402
from digest.issue import archive  # noqa: E402

TARGET_MS = 50.0
PER_ISSUE = 50
TERMS = [
    "patent",
    "court",
    "injunction",
    "infringement",
    "trademark",
    "copyright",
    "design",
    "standard",
    "essential",
    "frand",
    "licence",
    "opposition",
    "appeal",
    "revoked",
    "validity",
    "damages",
    "jury",
    "counterfeit",
    "customs",
    "seizure",
    "trade",
    "secret",
    "employee",
    "pharmaceutical",
    "biosimilar",
    "battery",
    "semiconductor",
    "software",
    "streaming",
    "platform",
    "unitary",
    "division",
]
TOPICS = ["patents", "trademarks", "copyright", "designs", "trade-secrets", "counterfeits", "ip-policy", "sep"]
PLACES = ["us", "eu", "upc", "de", "gb", "cn", "jp", "kr", "in", "fr", "int", "nl"]
SOURCES = [f"Source {i}" for i in range(30)]
START = datetime(2020, 1, 6, tzinfo=UTC)


def vocabulary(rng: random.Random, n: int = 20_000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "pel", "dri", "nu", "sco", "ta", "ber", "quin", "ro"]
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(n * 2)}
    return sorted(words)[:n]


def fill(db: Database, stories: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """``stories`` sent stories in issues of PER_ISSUE; the words used and the numbers written."""
    words = vocabulary(rng)
    cumulative = list(accumulate(1 / (i + 1) for i in range(len(words))))  # Zipf: a few words everywhere
    numbers: list[str] = []
    issues = -(-stories // PER_ISSUE)
    with db.begin() as conn:
        for i in range(issues):
            end = START + timedelta(weeks=i % 300, hours=i // 300)
            conn.execute(
                insert(t.issues).values(
                    id=i + 1,
                    week=f"B{i:07d}",
                    status="sent",
                    subject="s",
                    preheader="p",
                    period_start=end,
                    period_end=end,
                    content='{"sections": []}',
                    built_at=end,
                )
            )
    made = 0
    for i in range(issues):
        sent = START + timedelta(weeks=i % 300, hours=i // 300)
        batch = []
        for j in range(min(PER_ISSUE, stories - made)):
            made += 1
            title = rng.choices(words, cum_weights=cumulative, k=6) + rng.sample(TERMS, 2)
            summary = rng.choices(words, cum_weights=cumulative, k=30) + rng.sample(TERMS, 4)
            found: tuple[str, ...] = ()
            if rng.random() < 0.33:
                written = f"EP {rng.randint(1, 4)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d} B1"
                summary.append(written)
                numbers.append(written.replace(" ", "")[:-2])
                found = archive.numbers_of(written)
            batch.append(
                Story(
                    article_id=j + 1,
                    url=f"https://news.example/{made}",
                    title=" ".join(title).capitalize(),
                    summary=" ".join(summary).capitalize() + ".",
                    source=rng.choice(SOURCES),
                    published=sent - timedelta(hours=rng.randint(1, 150)),
                    topics=tuple(rng.sample(TOPICS, rng.randint(1, 2))),
                    jurisdictions=tuple(rng.sample(PLACES, rng.randint(0, 2))),
                    numbers=found,
                )
            )
        db.archive.record(i + 1, sent, batch)
    with db.begin() as conn:  # what autovacuum does to a table that grew: the planner's statistics
        conn.exec_driver_sql("ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE archive_stories")
    return words, numbers


def queries(
    words: list[str], numbers: list[str], rng: random.Random, n: int
) -> list[tuple[str, Callable[[Database], object]]]:
    common, rare = words[:50], words[-5000:]
    kinds: list[tuple[str, Callable[[], dict[str, object]]]] = [
        ("one IP term", lambda: {"text": rng.choice(TERMS)}),
        ("one common word", lambda: {"text": rng.choice(common)}),
        ("two words", lambda: {"text": f"{rng.choice(TERMS)} {rng.choice(common)}"}),
        ("a rare word", lambda: {"text": rng.choice(rare)}),
        ("a number", lambda: {"text": rng.choice(numbers).replace("EP", "EP ")}),
        ("topic alone", lambda: {"topic": rng.choice(TOPICS)}),
        ("jurisdiction alone", lambda: {"jurisdiction": rng.choice(PLACES)}),
        (
            "words + topic + jurisdiction",
            lambda: {"text": rng.choice(TERMS), "topic": rng.choice(TOPICS), "jurisdiction": rng.choice(PLACES)},
        ),
        (
            "words + date range",
            lambda: {"text": rng.choice(TERMS), "start": date(2021, 1, 1), "end": date(2021, 3, 31)},
        ),
        ("words + source", lambda: {"text": rng.choice(common), "source": rng.choice(SOURCES)}),
        ("no match", lambda: {"text": "zzzqqq nothinglikethis"}),
    ]
    out = []
    for k in range(n):
        name, make = kinds[k % len(kinds)]
        args = make()
        out.append((name, lambda db, a=args: archive.search(db, **a)))  # type: ignore[misc, arg-type]
    return out


def run(url: str, label: str, stories: int, n: int) -> bool:
    rng = random.Random(23)
    db = Database(url)
    started = time.monotonic()
    words, numbers = fill(db, stories, rng)
    print(f"{label}: {db.archive.count():,} stories stored in {time.monotonic() - started:.0f} s")
    todo = queries(words, numbers, rng, n)
    for _, q in todo[:20]:
        q(db)  # warm the caches
    times: dict[str, list[float]] = {}
    for name, q in todo:
        t0 = time.perf_counter()
        q(db)
        times.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
    every = sorted(x for v in times.values() for x in v)
    for name, v in times.items():
        print(f"  {name:<30} p50 {statistics.median(v):6.1f} ms   max {max(v):6.1f} ms")
    p95 = every[int(0.95 * (len(every) - 1))]
    ok = p95 < TARGET_MS
    print(
        f"  all {len(every)} searches: p50 {statistics.median(every):.1f} ms, p95 {p95:.1f} ms, max {every[-1]:.1f} ms"
        f"   target p95 < {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}   load average {os.getloadavg()[0]:.2f}\n"
    )
    db.close()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=330)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="Time one database only.")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs\n")
    ok = True
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            ok &= run(f"sqlite:///{tmp}/bench.db", "SQLite FTS5", args.stories, args.queries)
    if args.only != "sqlite":
        import pytest

        from tests.support.db import fresh_postgres

        try:
            with fresh_postgres("digest_bench") as url:
                ok &= run(url, "PostgreSQL tsvector + GIN", args.stories, args.queries)
        except pytest.skip.Exception as exc:
            print(f"PostgreSQL skipped: {exc}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
