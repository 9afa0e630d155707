"""The transport stage: what carries a finished message (an Envelope of bytes) to its recipient.

SMTP (smtplib, one reused connection) or an outbox folder of .eml files; ``make_transport`` chooses.
Messages are built in ``message``; nothing here looks inside them beyond SMTP's dot rule."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import SMTPConfig
from ..errors import SMTPConnectionError
from ..issue.message import Envelope

log = logging.getLogger(__name__)
_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class SendResult:
    ok: bool
    code: int
    text: str
    stage: str = "data"  # the SMTP step that answered: connection, mail, rcpt or data

    @property
    def permanent(self) -> bool:
        return not self.ok and 500 <= self.code < 600


class Transport(Protocol):
    """What delivery needs of a way to send mail."""

    def send(self, envelope: Envelope) -> SendResult: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


class SMTPTransport:
    """One reused smtplib connection: STARTTLS with verified certificates by default, AUTH when set."""

    def __init__(self, config: SMTPConfig, context: ssl.SSLContext | None = None) -> None:
        assert config.host
        self.config = config
        self._context = context
        self._smtp: smtplib.SMTP | None = None
        self._count = 0  # messages over the current connection

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
        cfg = self.config
        host = cfg.host or ""
        try:
            smtp: smtplib.SMTP
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(host, cfg.port, timeout=cfg.timeout, context=self.context)
            else:
                smtp = smtplib.SMTP(host, cfg.port, timeout=cfg.timeout)
            smtp.ehlo()
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
        except smtplib.SMTPAuthenticationError as exc:
            raise SMTPConnectionError(host, cfg.port, f"login refused ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SMTPConnectionError(host, cfg.port, str(exc) or type(exc).__name__) from None
        self._smtp = smtp
        self._count = 0
        return smtp

    def send(self, envelope: Envelope) -> SendResult:
        """One transaction; MAIL, RCPT and DATA pipelined when the server offers PIPELINING (RFC 2920)."""
        if self._count >= self.config.max_per_connection:
            self.close()
        smtp = self.connect()
        try:
            result = self._transaction(smtp, envelope)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abandon()
            return SendResult(False, 421, f"connection lost: {exc or type(exc).__name__}", "connection")
        self._count += 1
        return result

    def _transaction(self, smtp: smtplib.SMTP, envelope: Envelope) -> SendResult:
        try:
            commands = [
                f"MAIL FROM:<{envelope.sender}>\r\n".encode("ascii"),
                f"RCPT TO:<{envelope.recipient}>\r\n".encode("ascii"),
                b"DATA\r\n",
            ]
        except UnicodeEncodeError:
            return SendResult(False, 553, "the address needs SMTPUTF8, which this sender does not use", "rcpt")
        expected = (250, 250, 354)
        replies: list[tuple[int, bytes]] = []
        if smtp.has_extn("pipelining"):
            smtp.send(b"".join(commands))
            replies = [smtp.getreply() for _ in commands]
        else:
            for command, want in zip(commands, expected, strict=True):
                smtp.send(command)
                replies.append(smtp.getreply())
                if replies[-1][0] != want and not (want == 250 and replies[-1][0] == 251):
                    break
        for stage, (code, text), want in zip(("mail", "rcpt", "data"), replies, expected, strict=False):
            if code != want and not (want == 250 and code == 251):
                if replies[-1][0] == 354:  # in DATA mode after all: end an empty message
                    smtp.send(b".\r\n")
                    smtp.getreply()
                self._reset(smtp)
                return SendResult(False, code, _text(text), stage)
        data = envelope.data if envelope.dot_safe else _DOT.sub(b"..", envelope.data)
        smtp.send(data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n"))
        code, text = smtp.getreply()
        if code != 250:
            self._reset(smtp)
            return SendResult(False, code, _text(text), "data")
        return SendResult(True, code, _text(text), "data")

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.abandon()

    def abandon(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self.abandon()


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

    def send(self, envelope: Envelope) -> SendResult:
        path = self.folder / file_name(envelope.recipient)
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(envelope.data)
        tmp.replace(path)
        return SendResult(True, 250, f"written to {path}")

    def close(self) -> None:
        return None


def make_transport(smtp: SMTPConfig, folder: Path) -> Transport:
    """SMTP when SMTP_HOST is set, else .eml files in ``folder`` (the caller names it: an issue's own
    folder, its tests folder, or the confirmations folder)."""
    return SMTPTransport(smtp) if smtp.host else OutboxTransport(folder)
