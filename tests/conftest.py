"""Shared fixtures: real loopback servers (HTTP for feeds and pages, aiosmtpd for mail), real SQLite."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


def corpus(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not on this machine (the shared test corpus is optional)")
    return path


class _Handler(SimpleHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
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
    base: str
    routes: dict[str, tuple[int, dict[str, str], bytes]]
    hits: list[tuple[str, dict[str, str]]]
    barriers: dict[str, threading.Barrier]

    def add(self, path: str, body: bytes | str, content_type: str = "application/rss+xml",
            status: int = 200, **headers: str) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type, **headers}, data)
        return self.base + path

    def hang(self, path: str, seconds: float) -> str:
        self.routes[path] = (-1, {"sleep": str(seconds)}, b"")
        return self.base + path


@pytest.fixture
def site() -> Iterator[Site]:
    handler = type("Handler", (_Handler,), {"routes": {}, "hits": [], "barriers": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory="/nonexistent"))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_address[1]}", handler.routes, handler.hits, handler.barriers)
    server.shutdown()
    server.server_close()


@dataclass
class Sink:
    port: int
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 2.0.0 kept"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    from aiosmtpd.controller import Controller

    sink = Sink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()
