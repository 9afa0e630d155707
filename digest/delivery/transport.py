"""The transport stage: what carries a finished message (an Envelope of bytes) to its recipient.

SMTP (one reused connection, pipelined when the server allows) or an outbox folder of .eml files;
``make_transport`` chooses.
Messages are built in ``message``; nothing here looks inside them beyond SMTP's dot rule."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from ..config import SMTPConfig
from ..errors import SMTPConnectionError
from ..issue.message import Envelope

log = logging.getLogger(__name__)
_DOT = re.compile(rb"(?m)^\.")
_MAXLINE = 8192  # the longest reply line read, as smtplib's


@dataclass(frozen=True)
class SendResult:
    ok: bool
    code: int
    text: str
    stage: str = "data"  # the SMTP step that answered: connection, mail, rcpt or data
    throttled: bool = False  # the server said "not now" to the connection or the sender, not to this message

    @property
    def permanent(self) -> bool:
        return not self.ok and 500 <= self.code < 600


def _nothing() -> None:
    return None


def _no_next() -> Envelope | None:
    return None


Next = Callable[[], Envelope | None]


class Transport(Protocol):
    """What delivery needs of a way to send mail.

    ``send`` calls ``then`` once the message's content is written and before ``ready``: it makes and
    returns the next message for this connection, or None. Over SMTP with PIPELINING the next message's
    MAIL FROM, RCPT TO and DATA then go out with this message's final dot (RFC 2920 lets commands follow
    the end of data), and their replies come back with this message's, so a message costs one round trip;
    the next ``send`` must then be for that very envelope (anything else, or ``close``, drops the
    connection: the server is waiting for that message's content, and a message cut off before its final
    dot is not delivered).

    ``ready`` comes at the last moment before the message is delivered (over SMTP: its content is written,
    the final dot is not): the caller waits there until the previous message's outcome is committed, so
    that wait overlaps with carrying this message, and a crash still leaves at most one delivered message
    per connection unrecorded. If ``ready`` raises, nothing is delivered and the exception passes through.

    ``meanwhile`` is called while the server's reply to the message is on its way (over SMTP: the final
    dot is written, its reply not yet read), for work that would otherwise wait for it: the caller makes
    the message after the next one there."""

    def send(
        self,
        envelope: Envelope,
        ready: Callable[[], None] = _nothing,
        then: Next = _no_next,
        meanwhile: Callable[[], None] = _nothing,
    ) -> SendResult: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


class _Throttled(Exception):
    """A 4xx greeting or login reply: the server takes no more connections (or mail) for now."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code, self.text = code, text


class _Lost(Exception):
    """The connection ended; ``undelivered``: before this message's final dot was written, so the server
    cannot have taken it (it is safe to send it again at once)."""

    def __init__(self, reason: str, undelivered: bool) -> None:
        super().__init__(reason)
        self.undelivered = undelivered


class SMTPTransport:
    """One reused SMTP connection: STARTTLS with verified certificates by default, AUTH when set.

    smtplib opens the connection (greeting, EHLO, STARTTLS, AUTH); each message's transaction is then
    written straight to its socket and the replies read from its buffered reader: when the server offers
    PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go in one write, together with the previous
    message's final dot when the caller knows this message by then (see ``Transport``), and their replies
    are read after it: a message costs one round trip (four, one command at a time). Each message's
    final-dot reply is read and checked before the next message's final dot is written: its outcome is
    known, and recorded by the caller, before the connection delivers another.

    The connection is kept for ``max_per_connection`` messages, or fewer when the server closes it
    sooner (its own limit, which is then kept to). A 421, or a 4xx greeting or MAIL reply, comes back
    as ``throttled``: the server wants fewer connections or messages for now, and the caller waits."""

    def __init__(self, config: SMTPConfig, context: ssl.SSLContext | None = None) -> None:
        assert config.host
        self.config = config
        self._context = context
        self._smtp: smtplib.SMTP | None = None
        self._count = 0  # messages over the current connection
        self._limit = config.max_per_connection  # lowered to the server's when it closes sooner
        self._pipelining = False
        self._ahead: Envelope | None = None  # its MAIL, RCPT and DATA went with the last final dot, unanswered
        self._spare: _Spare | None = None  # the next connection, opening while this one ends

    def describe(self) -> str:
        return f"SMTP {self.config.host}:{self.config.port} ({self.config.security})"

    @property
    def context(self) -> ssl.SSLContext:
        """The TLS settings, made on first use: loading the system's certificates costs tens of milliseconds
        per connection, which a relay without TLS should not pay."""
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        smtp = self._take_spare() or self._open()
        self._smtp = smtp
        self._count = 0
        self._pipelining = self.config.pipelining and smtp.has_extn("pipelining")
        return smtp

    def _open(self) -> smtplib.SMTP:
        """A new connection, greeted, with EHLO, STARTTLS and AUTH done as configured."""
        cfg = self.config
        host = cfg.host or ""
        smtp: smtplib.SMTP | None = None
        try:
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(host, cfg.port, timeout=cfg.timeout, context=self.context)
            else:
                smtp = smtplib.SMTP(host, cfg.port, timeout=cfg.timeout)
            code, text = smtp.ehlo()
            if code != 250:
                raise smtplib.SMTPResponseException(code, text)
            if cfg.security == "starttls":
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise SMTPConnectionError(
                        host,
                        cfg.port,
                        "the server does not offer STARTTLS (set SMTP_SECURITY=none only for a trusted local relay)",
                    )
                smtp.starttls(context=self.context)
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
        except ssl.SSLCertVerificationError as exc:
            raise SMTPConnectionError(
                host, cfg.port, f"the server's certificate failed verification: {exc.verify_message or exc}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            if smtp is not None:
                with contextlib.suppress(OSError):
                    smtp.close()
            if 400 <= exc.smtp_code < 500:  # "too many connections", "try again later"
                raise _Throttled(exc.smtp_code, _text(exc.smtp_error)) from None
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise SMTPConnectionError(host, cfg.port, f"login refused ({exc.smtp_code})") from None
            raise SMTPConnectionError(host, cfg.port, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SMTPConnectionError(host, cfg.port, str(exc) or type(exc).__name__) from None
        if smtp.sock is not None:  # the final dot is written apart from the content: no wait for an ACK
            with contextlib.suppress(OSError):
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    def _prepare_next(self) -> None:
        """Open the connection that follows this one while its last messages are carried: a relay far away
        takes two round trips to greet and answer EHLO, which would otherwise be every hundredth message's."""
        if self._spare is None:
            self._spare = _Spare(self._open)

    def _take_spare(self) -> smtplib.SMTP | None:
        """The connection opened ahead, if it opened; None otherwise (the caller connects the usual way,
        and meets the error itself if there is one)."""
        spare, self._spare = self._spare, None
        return spare.result() if spare is not None else None

    def send(
        self,
        envelope: Envelope,
        ready: Callable[[], None] = _nothing,
        then: Next = _no_next,
        meanwhile: Callable[[], None] = _nothing,
    ) -> SendResult:
        """One transaction, its every reply read; on a reused connection that the server closed before this
        message's final dot was written (so it cannot have taken it), once more on a new connection.
        ``ready``, ``then`` and ``meanwhile``: see ``Transport``."""
        if self._ahead is not None and self._ahead is not envelope:
            self.abandon()  # the server waits for another message's content
        if self._count >= self._limit:
            self._retire()
        elif self._count + 2 >= self._limit and self._smtp is not None:
            self._prepare_next()
        for again in (False, True):
            reused = self._smtp is not None and self._count > 0
            try:
                smtp = self.connect()
            except _Throttled as exc:
                return SendResult(False, exc.code, exc.text, "connection", throttled=True)
            try:
                result = self._transaction(smtp, envelope, ready, then, meanwhile)
            except _Lost as exc:
                self.abandon()
                if reused and exc.undelivered and not again:
                    self._limit = max(1, min(self._limit, self._count))  # the server's own limit, kept to
                    continue
                return SendResult(False, 421, f"connection lost: {exc}", "connection")
            if result.code == 421:  # the server closes the connection after this reply
                self.abandon()
                if reused and result.stage == "mail" and not again:
                    self._limit = max(1, min(self._limit, self._count))
                    continue
            else:
                self._count += 1
            return result
        raise AssertionError("unreachable")

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        envelope: Envelope,
        ready: Callable[[], None],
        then: Next,
        meanwhile: Callable[[], None],
    ) -> SendResult:
        commands = _commands(envelope)
        if commands is None:
            return SendResult(False, 553, "the address needs SMTPUTF8, which this sender does not use", "rcpt")
        sock, reader = smtp.sock, smtp.file
        if sock is None:
            raise _Lost("not connected", True)
        if reader is None:
            reader = smtp.file = sock.makefile("rb")
        written, self._ahead = self._ahead is envelope, None
        replies: list[tuple[int, bytes]] = []
        try:
            if self._pipelining:
                if not written:
                    sock.sendall(b"".join(commands))
                for _ in commands:
                    replies.append(_reply(reader))
                    if replies[-1][0] == 421:  # closing: no more replies come
                        break
            else:
                for command, want in zip(commands, (250, 250, 354), strict=True):
                    sock.sendall(command)
                    replies.append(_reply(reader))
                    if replies[-1][0] != want and not (want == 250 and replies[-1][0] == 251):
                        break
        except (OSError, smtplib.SMTPException) as exc:
            raise _Lost(str(exc) or type(exc).__name__, True) from None
        for stage, (code, text), want in zip(("mail", "rcpt", "data"), replies, (250, 250, 354), strict=False):
            if code != want and not (want == 250 and code == 251):
                throttled = code == 421 or (stage == "mail" and 400 <= code < 500)
                if code != 421:
                    self._recover(smtp, replies[-1][0] == 354)
                return SendResult(False, code, _text(text), stage, throttled=throttled)
        data = envelope.data if envelope.dot_safe else _DOT.sub(b"..", envelope.data)
        try:
            sock.sendall(data if data.endswith(b"\r\n") else data + b"\r\n")
        except (OSError, smtplib.SMTPException) as exc:
            raise _Lost(str(exc) or type(exc).__name__, True) from None
        try:
            following = then()
            ready()
        except BaseException:
            self.abandon()  # the message ends without its dot: the server drops it
            raise
        end = b".\r\n"
        if following is not None and self._pipelining and self._count + 1 < self._limit:
            more = _commands(following)
            if more is not None:
                end += b"".join(more)
                self._ahead = following
        try:
            sock.sendall(end)
        except (OSError, smtplib.SMTPException) as exc:
            raise _Lost(str(exc) or type(exc).__name__, False) from None
        meanwhile()  # a round trip's wait, used
        try:
            code, text = _reply(reader)
        except (OSError, smtplib.SMTPException) as exc:
            raise _Lost(str(exc) or type(exc).__name__, False) from None
        if code != 250:
            if code != 421 and self._ahead is None:  # with commands ahead the server has moved on already
                self._recover(smtp, False)
            return SendResult(False, code, _text(text), "data", throttled=code == 421)
        return SendResult(True, code, _text(text), "data")

    def _recover(self, smtp: smtplib.SMTP, in_data: bool) -> None:
        """Back to a clean state after a refusal: an empty message ends DATA mode, then RSET."""
        try:
            if in_data:
                smtp.send(b".\r\n")
                smtp.getreply()
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.abandon()

    def abandon(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None
        self._ahead = None

    def _retire(self) -> None:
        """End a connection at its limit to make way for a new one: QUIT, without waiting for its reply (the
        server closes anyway; the wait would add a round trip to every message's share)."""
        if self._smtp is not None and self._ahead is None:
            _let_go(self._smtp)
        self.abandon()

    def close(self) -> None:
        """QUIT, or when a message's commands went ahead and its content never will, just drop the connection
        (the server is in DATA mode: a QUIT would be read as content). A connection opened ahead is let go."""
        spare = self._take_spare()
        if spare is not None:
            _let_go(spare)
        if self._ahead is not None:
            self.abandon()
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self.abandon()


class _Spare:
    """A connection being opened in a thread of its own (``SMTPTransport._prepare_next``)."""

    def __init__(self, open_: Callable[[], smtplib.SMTP]) -> None:
        self._open = open_
        self._smtp: smtplib.SMTP | None = None
        self._thread = threading.Thread(target=self._run, name="smtp-next", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._smtp = self._open()
        except Exception as exc:  # the usual connect meets it again and reports it
            log.debug("opening the next SMTP connection ahead failed: %s", exc)

    def result(self) -> smtplib.SMTP | None:
        self._thread.join()
        return self._smtp


def _let_go(smtp: smtplib.SMTP) -> None:
    """QUIT without waiting for the reply, and close."""
    with contextlib.suppress(OSError):
        if smtp.sock is not None:
            smtp.sock.sendall(b"QUIT\r\n")
        smtp.close()


def _commands(envelope: Envelope) -> tuple[bytes, bytes, bytes] | None:
    """MAIL FROM, RCPT TO and DATA for a message; None for an address that needs SMTPUTF8."""
    try:
        return (
            f"MAIL FROM:<{envelope.sender}>\r\n".encode("ascii"),
            f"RCPT TO:<{envelope.recipient}>\r\n".encode("ascii"),
            b"DATA\r\n",
        )
    except UnicodeEncodeError:
        return None


def _reply(reader: BinaryIO) -> tuple[int, bytes]:
    """One SMTP reply (all its lines) from the connection's buffered reader: (code, text)."""
    lines = []
    while True:
        line = reader.readline(_MAXLINE + 1)
        if not line:
            raise smtplib.SMTPServerDisconnected("the server closed the connection")
        if len(line) > _MAXLINE:
            raise smtplib.SMTPResponseException(500, b"line too long")
        lines.append(line[4:].rstrip(b"\r\n"))
        if line[3:4] != b"-":
            try:
                return int(line[:3]), b"\n".join(lines)
            except ValueError:
                raise smtplib.SMTPResponseException(-1, line) from None


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def file_name(recipient: str) -> str:
    """The name of a recipient's .eml file in an outbox folder."""
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", recipient)[:150] + ".eml"


def remove_files_of(root: Path, recipient: str) -> int:
    """Delete a recipient's .eml files (and any left half-written) in every folder under ``root``: the
    issues' folders, their tests folders and the confirmations folder; how many went."""
    name = file_name(recipient).lower()
    gone = 0
    if not root.is_dir():
        return 0
    for path in root.rglob("*.eml*"):
        if path.name.lower() in (name, name + ".tmp") and path.is_file():
            path.unlink(missing_ok=True)
            gone += 1
    return gone


class OutboxTransport:
    """Writes each message as an .eml file into a folder instead of sending it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"outbox folder {self.folder}"

    def send(
        self,
        envelope: Envelope,
        ready: Callable[[], None] = _nothing,
        then: Next = _no_next,
        meanwhile: Callable[[], None] = _nothing,
    ) -> SendResult:
        path = self.folder / file_name(envelope.recipient)
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(envelope.data)
        try:
            then()
            ready()  # the file is not in the folder until it is renamed
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(path)
        return SendResult(True, 250, f"written to {path}")

    def close(self) -> None:
        return None


def make_transport(smtp: SMTPConfig, folder: Path) -> Transport:
    """SMTP when SMTP_HOST is set, else .eml files in ``folder`` (the caller names it: an issue's own
    folder, its tests folder, or the confirmations folder)."""
    return SMTPTransport(smtp) if smtp.host else OutboxTransport(folder)
