"""A loopback TCP relay that makes a mail server far away: the client's bytes go straight through to the
server, and the server's reply reaches the client ``delay`` seconds after the client's last bytes before
it (or later, if the server took longer). So each exchange the client waits for (a command and its reply,
a pipelined group and its replies, the greeting) takes one round trip of ``delay``, the server's own time
included, as with a relay that far away; the bytes in flight are not limited. What is left beyond those
round trips is the client's own time.

Each connection has three threads: one carries the client's bytes to the server, one reads the server's
replies, one hands each reply to the client when it is due. They sleep with ``time.sleep``, which wakes
within a fraction of a millisecond; an asyncio loop's timers round up to whole milliseconds (epoll), which
made each reply up to a millisecond late, a cost the bound does not count. ``measure`` prints how long a
NOOP takes through the relay, to show how close it is to ``delay``.

Used by bench/send.py --latency; it runs in threads of the bench and stops with it.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import statistics
import threading
import time
from collections.abc import Iterator


class Window:
    """When the first connection through the relay opened and the last one closed (monotonic seconds)."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None

    def reset(self) -> None:
        self.first = self.last = None

    @property
    def seconds(self) -> float:
        return (self.last or 0.0) - (self.first or 0.0)


class _Connection:
    def __init__(self, client: socket.socket, server: socket.socket, delay: float) -> None:
        self.client, self.server, self.delay = client, server, delay
        self.heard = time.monotonic()  # when the client's latest bytes arrived; the greeting is due one delay on
        self.due: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def run(self, window: Window) -> None:
        threads = [threading.Thread(target=f, daemon=True) for f in (self._through, self._replies, self._hand)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        window.last = time.monotonic()

    def _through(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := self.client.recv(65536):
                self.heard = time.monotonic()
                self.server.sendall(chunk)
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_WR)

    def _replies(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := self.server.recv(65536):
                self.due.put((max(time.monotonic(), self.heard + self.delay), chunk))
        self.due.put((0.0, b""))

    def _hand(self) -> None:
        try:
            while True:
                at, chunk = self.due.get()
                if not chunk:
                    return
                wait = at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self.client.sendall(chunk)
        except OSError:
            return
        finally:
            for s in (self.client, self.server):
                with contextlib.suppress(OSError):
                    s.close()


@contextlib.contextmanager
def far_away(port: int, delay: float, window: Window | None = None) -> Iterator[int]:
    """A relay to the server on loopback ``port`` whose replies come ``delay`` seconds late; yields its port.
    ``window`` is told when the first connection opens and the last closes."""
    seen = window or Window()
    listener = socket.create_server(("127.0.0.1", 0))
    stopped = threading.Event()

    def accept() -> None:
        while not stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if seen.first is None:
                seen.first = time.monotonic()
            try:
                server = socket.create_connection(("127.0.0.1", port))
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_Connection(client, server, delay).run, args=(seen,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stopped.set()
        listener.close()
        thread.join(5)


def measure(port: int, count: int = 50) -> float:
    """The median seconds a NOOP takes through the relay on ``port`` (its delay plus its own lateness)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = s.makefile("rb")

        def reply() -> None:
            while lines.readline()[3:4] == b"-":
                pass

        reply()  # the greeting
        s.sendall(b"EHLO bench.example\r\n")
        reply()
        took = []
        for _ in range(count):
            started = time.perf_counter()
            s.sendall(b"NOOP\r\n")
            reply()
            took.append(time.perf_counter() - started)
        s.sendall(b"QUIT\r\n")
        reply()
    return statistics.median(took)
