"""A loopback TCP relay that makes a mail server far away: the client's bytes go straight through to the
server, and the server's reply reaches the client ``delay`` seconds after the client's last bytes before
it (or later, if the server took longer). So each exchange the client waits for (a command and its reply,
a pipelined group and its replies, the greeting) takes one round trip of ``delay``, the server's own time
included, as with a relay that far away; the bytes in flight are not limited. What is left beyond those
round trips is the client's own time.

Used by bench/send.py --latency; it runs in a thread of the bench (an asyncio loop) and stops with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator


class _Heard:
    """When the client's latest bytes arrived (the loop's clock)."""

    def __init__(self, at: float) -> None:
        self.at = at


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, heard: _Heard) -> None:
    loop = asyncio.get_running_loop()
    due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def take() -> None:
        while True:
            chunk = await reader.read(65536)
            due.put_nowait((max(loop.time(), heard.at + delay), chunk))
            if not chunk:
                return

    taker = asyncio.create_task(take())
    try:
        while True:
            at, chunk = await due.get()
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    finally:
        taker.cancel()
        with contextlib.suppress(OSError):
            writer.close()


async def _through(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heard: _Heard) -> None:
    loop = asyncio.get_running_loop()
    try:
        while chunk := await reader.read(65536):
            heard.at = loop.time()
            writer.write(chunk)
            await writer.drain()
    finally:
        with contextlib.suppress(OSError):
            writer.close()


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


@contextlib.contextmanager
def far_away(port: int, delay: float, window: Window | None = None) -> Iterator[int]:
    """A relay to the server on loopback ``port`` whose replies come ``delay`` seconds late; yields its port.
    ``window`` is told when the first connection opens and the last closes."""
    loop = asyncio.new_event_loop()
    seen = window or Window()
    ready = threading.Event()
    box: dict[str, object] = {}

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if seen.first is None:
            seen.first = time.monotonic()
        heard = _Heard(asyncio.get_running_loop().time())  # the greeting is due one delay after the connection
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_w.close()
            return
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await asyncio.gather(_through(client_r, server_w, heard), _pipe(server_r, client_w, delay, heard))
        seen.last = time.monotonic()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        box["port"] = server.sockets[0].getsockname()[1]
        box["server"] = server
        ready.set()
        async with server:
            await server.serve_forever()

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield int(box["port"])  # type: ignore[call-overload]
    finally:
        loop.call_soon_threadsafe(box["server"].close)  # type: ignore[attr-defined]
        thread.join(5)
