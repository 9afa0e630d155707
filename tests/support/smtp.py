"""Loopback SMTP servers (aiosmtpd) that keep what they receive: a plain sink, a sink that holds the first
message until a gate opens, and a sink that misbehaves on purpose; and reading the messages back."""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from digest.issue.message import Envelope, MessageTemplate
from digest.issue.render import Personal, Rendered


def free_port() -> int:
    """A loopback port free at this moment (another process may take it: servers retry, see smtp_server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(handler: Any, **kwargs: Any) -> Iterator[int]:
    """aiosmtpd serving ``handler`` on a free loopback port (yielded); on leaving, a ``gate`` the handler has
    is opened so that no message stays held, and the server stops."""
    from aiosmtpd.controller import Controller

    for attempt in range(5):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        try:
            controller.start()
            break
        except OSError as exc:  # taken between free_port() and the bind, by a test in another process
            if exc.errno != errno.EADDRINUSE or attempt == 4:
                raise
    try:
        yield port
    finally:
        gate = getattr(handler, "gate", None)
        if isinstance(gate, threading.Event):
            gate.set()
        controller.stop()


@dataclass
class Sink:
    """Keeps every message as (MAIL FROM, RCPT TOs, message); refuses the addresses in ``refuse`` at RCPT."""

    port: int = 0
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
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 2.0.0 kept"


@contextmanager
def sink_server() -> Iterator[Sink]:
    sink = Sink()
    with smtp_server(sink) as sink.port:
        yield sink


@dataclass
class GatedSink:
    """Holds every message until ``gate`` is set (``arrived`` tells the first came)."""

    port: int = 0
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 2.0.0 kept"

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for rcpts, _ in self.messages for r in rcpts]


@contextmanager
def gated_sink(open_gate: bool = False) -> Iterator[GatedSink]:
    sink = GatedSink()
    if open_gate:
        sink.gate.set()
    with smtp_server(sink) as sink.port:
        yield sink


@dataclass
class _Refusing:
    """Refuses the addresses in ``refuse`` at RCPT (550), takes the others."""

    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class FaultSink(_Refusing):
    """Answers per recipient: 550 at RCPT for ``refuse``; 451 for the first n DATA of ``tempfail``;
    drops the connection on the first n DATA of ``drop``; 451 always for ``always``; 554 for all with
    ``refuse_all``. With ``hold_after`` = N, DATA after the Nth accepted one is received and kept in
    ``held`` but not answered until ``gate`` is set (a send caught with messages in flight).
    With ``hold_until`` = K, every DATA waits until K of them wait at once."""

    tempfail: dict[str, int] = field(default_factory=dict)
    drop: dict[str, int] = field(default_factory=dict)
    always: set[str] = field(default_factory=set)
    refuse_all: bool = False
    hold_after: int | None = None
    hold_until: int | None = None
    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    held: list[tuple[str, bytes]] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    sessions: int = 0
    waiting: int = 0
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            self.tries[rcpt] += 1
            n = self.tries[rcpt]
        if self.refuse_all:
            return "554 5.7.1 relay access denied"
        if rcpt in self.always or n <= self.tempfail.get(rcpt, 0):
            return "451 4.3.0 try again later"
        if n <= self.drop.get(rcpt, 0):
            server.transport.close()
            return "421 4.3.0 closing"
        if self.hold_until is not None and not self.gate.is_set():
            with self.lock:
                self.waiting += 1
                if self.waiting >= self.hold_until:
                    self.gate.set()
            await self._gate_open()
        with self.lock:
            held = self.hold_after is not None and len(self.accepted) >= self.hold_after and not self.gate.is_set()
            (self.held if held else self.accepted).append((rcpt, envelope.content))
        if held:
            await self._gate_open()
        return "250 2.0.0 kept"

    async def _gate_open(self) -> None:
        """Waits for the gate without blocking the server's loop (other connections go on meanwhile)."""
        while not self.gate.is_set():
            await asyncio.sleep(0.005)

    def copies(self) -> Counter[str]:
        return Counter(r for r, _ in self.accepted + self.held)


# -- messages read back ------------------------------------------------------------------------------


def read_eml(path: Path) -> EmailMessage:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def link_in(msg: EmailMessage, purpose: str) -> str:
    """The first ``purpose`` link (confirm, preferences, unsubscribe) in a message's text part."""
    part = msg.get_body(("plain",))
    assert part is not None
    found = re.search(rf"https?://\S+/{purpose}/\S+", part.get_content())
    assert found, f"no {purpose} link in the message"
    return found.group(0)


@dataclass
class PipeliningSink(_Refusing):
    """Offers PIPELINING (RFC 2920) unless ``offer`` is false, and notes for each MAIL FROM whether the
    client's RCPT TO had already arrived with it (written in one go), and for each final dot whether the
    next message's MAIL FROM came with it (``ahead``). Answers each message's DATA with its own queue id,
    ``Q-<recipient>``; refuses the addresses in ``refuse`` at RCPT; answers the first ``busy`` EHLOs with
    421 "too many connections" and the first ``throttle`` MAIL FROMs with 421 "slow down", closing the
    connection after each, as a throttling relay does; with ``per_connection``, closes a connection after
    that many messages (a MAIL FROM that came before the close gets 421)."""

    offer: bool = True
    busy: int = 0
    throttle: int = 0
    per_connection: int | None = None
    together: list[bool] = field(default_factory=list)  # per MAIL FROM: RCPT TO came in the same write
    ahead: list[bool] = field(default_factory=list)  # per final dot: the next MAIL FROM came with it
    delivered: Counter[str] = field(default_factory=Counter)
    refused_connections: int = 0
    greeted: int = 0  # EHLOs answered 250
    throttled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        session.carried = 0
        with self.lock:
            if self.refused_connections < self.busy:
                self.refused_connections += 1
                asyncio.get_running_loop().call_soon(server.transport.close)  # after this reply is written
                return ["421 4.7.0 too many connections from your host, try later"]
            self.greeted += 1
        if self.offer:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        buffered = bytes(getattr(server._reader, "_buffer", b""))  # what the client wrote after MAIL FROM
        if self.per_connection is not None and session.carried >= self.per_connection:
            return "421 4.7.0 too many messages on this connection"  # written before the close below
        with self.lock:
            self.together.append(buffered.upper().startswith(b"RCPT TO"))
            if self.throttled < self.throttle:
                self.throttled += 1
                asyncio.get_running_loop().call_soon(server.transport.close)
                return "421 4.7.0 rate limited, slow down"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0]
        buffered = bytes(getattr(server._reader, "_buffer", b""))  # what the client wrote after the final dot
        with self.lock:
            self.delivered[rcpt] += 1
            self.ahead.append(buffered.upper().startswith(b"MAIL FROM"))
        session.carried += 1
        if self.per_connection is not None and session.carried >= self.per_connection:
            asyncio.get_running_loop().call_soon(server.transport.close)  # after this reply is written
        return f"250 2.0.0 queued as Q-{rcpt}"


def envelope_to(email: str) -> Envelope:
    """A small finished list message to ``email``, for tests of a transport alone."""
    content = Rendered(subject="s", preheader="", html="<p>h</p>", text="t", shown=0, overflow=0)
    return MessageTemplate(content, sender="digest@example.org", list_id="x <y.example>").fill(
        Personal(name="", email=email, unsubscribe_url="https://x/u", preferences_url="https://x/p")
    )
