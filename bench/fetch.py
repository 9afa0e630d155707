"""Peak memory and time of a collect over big pages, and how long a trickling server holds a fetch.

Usage: python bench/fetch.py [--pages 300] [--page-mb 5] [--project DIR] [--collect-timeout S]

1. A loopback site serves one feed of N thin entries, each linking its own page of M MB (an article
   lead, then inline script and filler paragraphs). `collect` runs in a child process; the script
   prints the child's peak RSS and the wall time.
2. A server sends its answer one byte a second; a fetch with `deadline = 5` runs in a child process,
   and the script prints how long it took to give up (or that it was still running after 60 s).

--project runs the same against another checkout (e.g. an older one, for a before/after figure).
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
LEAD = (
    "<p>The court held that the patent was infringed by the defendant's devices sold in the country, "
    "and ordered a recall of every unit still held by retailers.</p>"
)


def big_page(megabytes: float) -> bytes:
    size = int(megabytes * 1_000_000)
    script = "<script>var s = '" + "x" * (size // 2) + "';</script>"
    filler = "<p>Record of the hearing, kept for the archive of the court and its readers.</p>\n"
    paras = filler * max(0, (size - len(script)) // len(filler))
    return f"<html><head>{script}</head><body><article>{LEAD}{paras}</article></body></html>".encode()


class Handler(BaseHTTPRequestHandler):
    def __init__(self, feed: bytes, page: bytes, *args: Any) -> None:
        self.feed, self.page = feed, page
        super().__init__(*args)

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body, kind = (self.feed, "application/rss+xml") if self.path == "/feed" else (self.page, "text/html")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def child(project: Path, code: str, timeout: float) -> tuple[float, int, str]:
    """Run ``code`` in a fresh Python with ``project`` first on the path: (seconds, peak RSS in MB, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(project)!r})\n{code}"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        out = (done.stdout + done.stderr).strip()
    except subprocess.TimeoutExpired:
        out = f"still running after {timeout:g} s"
    took = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, max(peak, before) // 1024, out


def bench_collect(project: Path, pages: int, page_mb: float, timeout: float) -> None:
    items = "".join(
        f"<item><title>Patent ruling {i}</title><link>{{base}}/page/{i}</link><guid>g{i}</guid>"
        "<category>Patents</category><description>A court ruled [&#8230;]</description></item>"
        for i in range(pages)
    )
    feed_tpl = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, b"", big_page(page_mb)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = partial(Handler, feed_tpl.replace("{base}", base).encode(), big_page(page_mb))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        code = textwrap.dedent(f"""
            from digest.collect.stage import collect
            from digest.config import FetchConfig, Settings, SourceConfig
            from digest.db import Database
            s = Settings(sources=(SourceConfig("big", {base + "/feed"!r}),), database_url="sqlite:///{tmp}/d.db",
                         fetch=FetchConfig(max_bytes={int(page_mb * 1_000_000) + 1_000_000}, deadline=120))
            db = Database(s.database_url)
            r = collect(s, db)
            print("stored", r.new, "articles")
        """)
        took, peak, out = child(project, code, timeout=timeout)
    server.shutdown()
    print(f"collect, {pages} thin entries x {page_mb:g} MB pages: peak RSS {peak} MB, {took:.1f} s ({out[-80:]})")


def bench_trickle(project: Path) -> None:
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + b"x" * 10_000:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(1)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{srv.getsockname()[1]}/"
    code = textwrap.dedent(f"""
        from digest.config import FetchConfig, SourceConfig, Settings
        from digest.collect.sources import Fetcher
        from digest.errors import SourceError
        s = Settings(sources=(SourceConfig("slow", {url!r}),), fetch=FetchConfig(deadline=5, read_timeout=15))
        f = Fetcher.for_settings(s) if hasattr(Fetcher, "for_settings") else Fetcher(s.fetch)
        try:
            f.get({url!r})
            print("answered")
        except SourceError as exc:
            print(exc.reason)
    """)
    took, _, out = child(project, code, timeout=60)
    srv.close()
    print(f"trickling server (1 byte/s), deadline = 5: gave up after {took:.1f} s ({out[-90:]})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--page-mb", type=float, default=5)
    ap.add_argument("--project", type=Path, default=PROJECT)
    ap.add_argument("--only", choices=("collect", "trickle"))
    ap.add_argument(
        "--collect-timeout",
        type=float,
        default=1800,
        help="Stop the collect after this many seconds (its peak so far is still printed).",
    )
    opts = ap.parse_args()
    if opts.only != "trickle":
        bench_collect(opts.project.resolve(), opts.pages, opts.page_mb, opts.collect_timeout)
    if opts.only != "collect":
        bench_trickle(opts.project.resolve())


if __name__ == "__main__":
    main()
