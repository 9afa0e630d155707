"""`digest serve`'s server: waitress on one listening socket, in one process or in several.

A request is Python at work for a few milliseconds, and one process runs Python on one core at a time, so
on a host with cores to spare ``processes`` > 1 forks that many servers that share the listening socket
(the kernel hands each new connection to one of them). Each process makes its own app after the fork: its
own database pool, sign-up mail thread and request threads; the sign-up mail is claimed through the
database, so no notice goes twice. What is kept in memory is kept per process: the sign-up rate limits
([web]) count per process, so N processes let a client N times as many sign-ups before refusing.

The first process stops them all: SIGTERM or Ctrl-C reaches every server, each stops listening and lets the
requests in flight finish, then its sign-up mail finishes the message in flight. A server that ends on its
own stops the others, and the command exits 1 saying so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

from flask import Flask

from ..errors import DigestError

log = logging.getLogger(__name__)

STOP_SECONDS = 60.0  # how long a stop waits for a message in flight
IDENT = "ip-digest"


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, or a DigestError that says what holds the port."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        raise DigestError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; stop what holds the port "
            "or pick another with --port"
        ) from None


def serve_one(app: Flask, sock: socket.socket, threads: int) -> None:
    """Run one waitress server on ``sock`` until SIGTERM or Ctrl-C, then let the sign-up mail and a *Send
    now* finish the message in flight."""
    from waitress import create_server

    from . import start_mail, stop_mail

    # The proxy headers reach the app: ProxyFix reads them (--proxies), and /metrics refuses relayed requests.
    server = create_server(app, sockets=[sock], threads=threads, ident=IDENT, clear_untrusted_proxy_headers=False)
    start_mail(app)
    previous = signal.signal(signal.SIGTERM, _stop_serving)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        stop_mail(app, STOP_SECONDS)


def serve_many(make_app: Callable[[], Flask], sock: socket.socket, threads: int, processes: int) -> int:
    """Fork ``processes`` servers sharing ``sock``, each with the app ``make_app`` makes after the fork; wait
    until a stop (0) or until one of them ends on its own (1, the others stopped)."""
    children: list[int] = []
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        _signal_all(children, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(processes):
            pid = os.fork()
            if pid == 0:
                _child(make_app, sock, threads)
            children.append(pid)
        sock.close()  # the servers hold it
        status = 0
        while children:
            try:
                pid, code = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if pid not in children:
                continue
            children.remove(pid)
            if not stopping:
                log.error(
                    "a server process (pid %d) ended on its own (status %d); the others are stopped",
                    pid,
                    os.waitstatus_to_exitcode(code),
                )
                stopping, status = True, 1
                _signal_all(children, signal.SIGTERM)
        return status
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _child(make_app: Callable[[], Flask], sock: socket.socket, threads: int) -> None:
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the first process relays it
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        serve_one(make_app(), sock, threads)
        code = 0
    except SystemExit as exc:  # SIGTERM: a stop
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        log.exception("the server process failed")
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _stop_serving(_signum: int, _frame: object) -> None:
    raise SystemExit(0)
