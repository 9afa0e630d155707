"""A loopback HTTP server whose answers a test sets per path (feeds, pages, errors, hangs, barriers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

Route = tuple[int, dict[str, str], bytes]


class _Handler(SimpleHTTPRequestHandler):
    routes: ClassVar[dict[str, Route]] = {}
    hits: ClassVar[list[tuple[str, dict[str, str]]]] = []
    barriers: ClassVar[dict[str, threading.Barrier]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.hits.append((self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0]
        if path in self.barriers:
            self.barriers[path].wait()
        route = self.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        status, headers, body = route
        if status == -1:  # hang until the client gives up
            time.sleep(float(headers.get("sleep", "5")))
            return
        etag = headers.get("ETag")
        if etag and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class Site:
    """The server's address, its routes (path -> status, headers, body), the requests it saw, and barriers
    that hold requests to a path until enough have arrived."""

    base: str
    routes: dict[str, Route]
    hits: list[tuple[str, dict[str, str]]]
    barriers: dict[str, threading.Barrier]

    def add(
        self, path: str, body: bytes | str, content_type: str = "application/rss+xml", status: int = 200, **headers: str
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type, **headers}, data)
        return self.base + path

    def hang(self, path: str, seconds: float) -> str:
        self.routes[path] = (-1, {"sleep": str(seconds)}, b"")
        return self.base + path


@contextmanager
def serve_site(host: str = "127.0.0.1") -> Iterator[Site]:
    """A ThreadingHTTPServer on a free loopback port (of ``host``), with routes of its own."""
    handler: type[_Handler] = type("Handler", (_Handler,), {"routes": {}, "hits": [], "barriers": {}})
    server = ThreadingHTTPServer((host, 0), partial(handler, directory="/nonexistent"))
    server.daemon_threads = True
    # shutdown() waits for the loop to look at its flag: poll often, or each test ends half a second late
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield Site(f"http://{host}:{server.server_address[1]}", handler.routes, handler.hits, handler.barriers)
    finally:
        server.shutdown()
        server.server_close()
