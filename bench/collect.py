"""Collect on every core: 200 sources of 50 entries, 2,000 of them thin with 60 KB article pages.

Usage: python bench/collect.py [--sources 200] [--repeat 3]

A loopback HTTP server in its own process serves the feeds (each with an ETag) and the pages. Each round
runs, in fresh child processes and a new SQLite database each, the full collect with one extraction
worker and with the default (one per core), then a second collect of the same sources (every feed
answers 304). Prints the medians: the speed-up (target >= 1.7x), the collect process's peak RSS
(target < 400 MB) and the 304 collect's wall time (target < 2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

ENTRIES, THIN = 50, 10
WORDS = (
    "The appeals court held that the patent claims were obvious over the prior art and sent the case "
    "back to the district court for a new trial on damages. "
)


def feed(base: str, i: int) -> str:
    items = []
    for j in range(ENTRIES):
        url = f"{base}/a/{i}/{j}"
        full = "" if j < THIN else f"<content:encoded><![CDATA[<p>{WORDS * 6}</p>]]></content:encoded>"
        items.append(
            f"<item><title>Patent ruling {i}-{j} on claims</title><link>{url}</link><guid>{url}</guid>"
            "<category>patents</category><description><![CDATA[<p>Patent ruling in brief […]</p>]]>"
            f"</description>{full}"
            f"<pubDate>Mon, 0{1 + j % 9} Jan 2024 10:00:00 GMT</pubDate></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Source {i}</title><link>{base}</link>"
        f"<description>IP news</description>{''.join(items)}</channel></rss>"
    )


def page(i: int, j: int) -> str:
    paragraphs = "".join(f"<p>{WORDS * 3} Paragraph {k} of story {i}-{j}.</p>" for k in range(122))
    nav = "".join(f'<li><a href="/s/{k}">Section {k}</a></li>' for k in range(40))
    return (
        f"<html><head><title>Patent ruling {i}-{j}</title></head><body><nav><ul>{nav}</ul></nav>"
        f"<article><h1>Patent ruling {i}-{j}</h1>{paragraphs}</article><footer>Share this</footer></body></html>"
    )


def serve(sources: int) -> None:
    """Child: serve every feed and page on loopback, print the base URL, stop when stdin closes."""
    from tests.support.http import serve_site

    with serve_site() as site:
        for i in range(sources):
            site.add(f"/feed/{i}", feed(site.base, i), ETag=f'"feed-{i}"')
            for j in range(THIN):
                site.add(f"/a/{i}/{j}", page(i, j), content_type="text/html; charset=utf-8")
        print(site.base, flush=True)
        sys.stdin.read()


def run(base: str, sources: int, workers: int, folder: str) -> None:
    """Child: the full collect, then the 304 collect; prints JSON figures."""
    from digest.collect.stage import collect
    from digest.config import FetchConfig, Settings, SourceConfig
    from digest.db import Database

    settings = Settings(
        database_url=f"sqlite:///{folder}/collect.db",
        outbox_dir=Path(folder),
        sources=tuple(SourceConfig(f"Source {i}", f"{base}/feed/{i}") for i in range(sources)),
    )
    settings = replace(settings, fetch=replace(settings.fetch, extract_workers=workers))
    assert isinstance(settings.fetch, FetchConfig)
    db = Database(settings.database_url)
    started = time.monotonic()
    first = collect(settings, db)
    full = time.monotonic() - started
    started = time.monotonic()
    second = collect(settings, db)
    again = time.monotonic() - started
    print(
        json.dumps(
            {
                "full": full,
                "again": again,
                "new": first.new,
                "failed": first.failed,
                "not_modified": sum(s.not_modified for s in second.sources),
                "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--run", nargs=3, metavar=("BASE", "WORKERS", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.sources)
        return
    if args.run:
        run(args.run[0], args.sources, int(args.run[1]), args.run[2])
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--sources", str(args.sources)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    base = server.stdout.readline().strip()
    results: dict[int, list[dict[str, float]]] = {1: [], 0: []}
    try:
        for _ in range(args.repeat):
            for workers in (1, 0):
                with tempfile.TemporaryDirectory() as folder:
                    out = subprocess.run(
                        [sys.executable, __file__, "--sources", str(args.sources), "--run", base, str(workers), folder],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    results[workers].append(json.loads(out.splitlines()[-1]))
    finally:
        server.stdin.close()
        server.wait()

    def med(workers: int, key: str) -> float:
        return statistics.median(r[key] for r in results[workers])

    cores = len(os.sched_getaffinity(0))
    print(
        f"load average {os.getloadavg()[0]:.2f}, {cores} cores; {args.sources} sources x {ENTRIES} entries, "
        f"{args.sources * THIN} thin with {len(page(0, 0)) // 1000} KB pages; median of {args.repeat} rounds; "
        f"{results[0][-1]['new']:.0f} articles stored, {results[0][-1]['failed']:.0f} sources failed"
    )
    print(f"full collect, 1 extraction worker:       {med(1, 'full'):6.1f} s")
    print(
        f"full collect, {cores} extraction workers:      {med(0, 'full'):6.1f} s   "
        f"speed-up {med(1, 'full') / med(0, 'full'):.2f}x (target >= 1.7x)"
    )
    print(f"peak RSS of the collect process: {med(0, 'rss'):.0f} MB (target < 400 MB)")
    print(
        f"next collect, every feed 304 ({results[0][-1]['not_modified']:.0f} sources): {med(0, 'again'):.2f} s "
        "(target < 2 s)"
    )


if __name__ == "__main__":
    main()
