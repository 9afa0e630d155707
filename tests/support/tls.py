"""An HTTPS server on a loopback address with a certificate of the test's own CA: it serves fixed bodies by
path and keeps every connection it accepted and every path it was asked for."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from typing import Any

import trustme


@dataclass
class Host:
    address: str
    port: int = 0
    bodies: dict[str, bytes] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)  # the peer of each accepted connection
    paths: list[str] = field(default_factory=list)  # each request's path and query
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    host: Host

    def get_request(self) -> tuple[socket, Any]:
        sock, peer = super().get_request()
        with self.host.lock:
            self.host.connections.append(str(peer))
        return sock, peer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host = self.server.host
        with host.lock:
            host.paths.append(self.path)
        body = host.bodies.get(self.path.split("?", 1)[0])
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


@contextmanager
def https_host(address: str, ca: trustme.CA, name: str) -> Iterator[Host]:
    """Serve on ``address`` (any loopback address) with a certificate for ``name`` issued by ``ca``."""
    host = Host(address)
    server = _Server((address, 0), _Handler, bind_and_activate=True)
    server.host = host
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    host.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
