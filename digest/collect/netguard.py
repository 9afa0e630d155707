"""What a fetch may reach, and for how long: public addresses only (the operator's own hosts excepted),
checked after DNS resolution and connected to as checked, within a wall-clock deadline.

Feeds and pages come from strangers: a feed's link, or a redirect, could name a host on the machine's own
network (loopback, the LAN, a cloud's metadata address 169.254.169.254). ``Guard`` decides; the requests
``GuardedAdapter`` resolves each new connection's host once, refuses a non-public address, and connects to
the very address it checked, so a second DNS answer cannot slip another one in. ``Deadline`` cuts off a
request whose server trickles bytes, by shutting its sockets when the time is up.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as u3connection

WEB_SCHEMES = ("http", "https")


class AddressRefused(Exception):
    """A host resolved only to addresses that a fetch must not reach."""

    def __init__(self, host: str, address: str) -> None:
        self.host, self.address = host, address
        super().__init__(f"{host} is a private address ({address})")


class DeadlinePassed(Exception):
    """The request's deadline passed before a new connection was opened."""


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def url_host(url: str) -> str | None:
    """The host of an http(s) URL, normalized; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return normal_host(parts.hostname)


def source_hosts(urls: Iterable[str]) -> frozenset[str]:
    """The hosts of the operator's source URLs, as written: pages there may be on a private network."""
    return frozenset(h for h in (url_host(u) for u in urls) if h)


def is_public(address: str) -> bool:
    """True for an address on the public internet; False for loopback, private, link-local, shared,
    unique-local, multicast, reserved and unspecified ranges (an IPv4-mapped IPv6 address as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


class Guard:
    """Which hosts a fetch may connect to: the ``allowed`` ones anywhere, every other host only at a public
    address."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(normal_host(h) for h in allowed if h.strip())

    def allows_any_address(self, host: str) -> bool:
        return normal_host(host) in self.allowed

    def addresses(self, host: str, port: int) -> list[str]:
        """The public addresses ``host`` resolves to; AddressRefused when it has none."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        public = [str(info[4][0]) for info in infos if is_public(str(info[4][0]))]
        if not public:
            raise AddressRefused(host, str(infos[0][4][0]) if infos else "no address")
        return public


class Deadline:
    """One request's wall-clock limit: when it passes, every socket the request opened is shut down, so a
    read that a server keeps alive with a byte at a time ends at once."""

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @classmethod
    def current(cls) -> Deadline | None:
        return getattr(cls._current, "value", None)

    @classmethod
    @contextmanager
    def running(cls, seconds: float) -> Iterator[Deadline]:
        """The deadline of the requests this thread makes inside the block."""
        deadline = cls(seconds)
        cls._current.value = deadline
        deadline._timer.start()
        try:
            yield deadline
        finally:
            deadline._timer.cancel()
            cls._current.value = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's: an SSL socket's would unwrap


class _GuardedConnection(HTTPConnection):
    guard: Guard = Guard()

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = Deadline.current()
        if deadline is not None:
            deadline.watch(self.sock)  # a kept-alive connection, reused by this request
        super().request(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        deadline = Deadline.current()
        if deadline is not None and deadline.expired:
            raise DeadlinePassed(self.host)
        sock = super()._new_conn() if self.guard.allows_any_address(self.host) else self._pinned_conn()
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def _pinned_conn(self) -> socket.socket:
        """A socket to the first public address of the host that accepts, each checked before use."""
        try:
            candidates = self.guard.addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        last: OSError | None = None
        for address in candidates:
            try:
                return u3connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                last = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class GuardedAdapter(HTTPAdapter):
    """A requests transport adapter whose connections go only where ``guard`` allows, within the
    current ``Deadline``."""

    __attrs__ = [*HTTPAdapter.__attrs__, "guard"]  # noqa: RUF012 (requests' own pickling list)

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        self.guard = guard
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        guard = self.guard
        http_conn = type("GuardedHTTPConnection", (_GuardedConnection,), {"guard": guard})
        https_conn = type("GuardedHTTPSConnection", (_GuardedHTTPSConnection,), {"guard": guard})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
