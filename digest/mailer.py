"""Messages and the transports that carry them: SMTP (smtplib) or an outbox folder of .eml files."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from .config import SMTPConfig
from .errors import SMTPConnectionError

log = logging.getLogger(__name__)
_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class Envelope:
    """One subscriber's message, as bytes, with its envelope."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    dot_safe: bool = False  # no line starts with '.', so SMTP needs no dot-stuffing


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


def address_of(header_value: str) -> str:
    return parseaddr(header_value)[1]


def domain_of(header_value: str) -> str:
    return address_of(header_value).rpartition("@")[2] or "localhost"


def one_line(value: str) -> str:
    """A header-safe value: printable characters only, on one line."""
    if not value.isprintable():
        value = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(value.split())


def build_message(*, sender: str, to_email: str, to_name: str, subject: str, text: str, html: str,
                  list_id: str, unsubscribe_url: str, unsubscribe_mailto: str | None = None,
                  reply_to: str | None = None, extra_headers: dict[str, str] | None = None,
                  message_id: str | None = None, date: str | None = None) -> Envelope:
    """A multipart/alternative message with the headers of the contract (the email package, each time:
    used for test messages; a send builds a ``message.MessageTemplate`` once per variant instead)."""
    to_name, subject = one_line(to_name), one_line(subject)
    msg = EmailMessage(policy=policy.SMTP)
    message_id = message_id or make_msgid(domain=domain_of(sender))
    msg["From"] = sender
    msg["To"] = formataddr((to_name, to_email)) if to_name else to_email
    msg["Subject"] = subject
    msg["Date"] = date or formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg["List-Id"] = list_id
    links = [f"<{unsubscribe_url}>"]
    if unsubscribe_mailto:
        links.append(f"<mailto:{unsubscribe_mailto}?subject=unsubscribe>")
    msg["List-Unsubscribe"] = ", ".join(links)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if reply_to:
        msg["Reply-To"] = reply_to
    for key, value in (extra_headers or {}).items():
        msg[key] = value
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Envelope(sender=address_of(sender), recipient=to_email, message_id=message_id, data=msg.as_bytes())


class SMTPTransport:
    """One reused smtplib connection: STARTTLS with verified certificates by default, AUTH when set."""

    def __init__(self, config: SMTPConfig, context: ssl.SSLContext | None = None) -> None:
        assert config.host
        self.config = config
        self.context = context or ssl.create_default_context()
        self._smtp: smtplib.SMTP | None = None
        self._count = 0  # messages over the current connection

    def describe(self) -> str:
        return f"SMTP {self.config.host}:{self.config.port} ({self.config.security})"

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
                    raise SMTPConnectionError(host, cfg.port, "the server does not offer STARTTLS "
                                              "(set SMTP_SECURITY=none only for a trusted local relay)")
                smtp.starttls(context=self.context)
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
        except ssl.SSLCertVerificationError as exc:
            raise SMTPConnectionError(host, cfg.port, f"the server's certificate failed verification: "
                                      f"{exc.verify_message or exc}") from None
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
            commands = [f"MAIL FROM:<{envelope.sender}>\r\n".encode("ascii"),
                        f"RCPT TO:<{envelope.recipient}>\r\n".encode("ascii"), b"DATA\r\n"]
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


class OutboxTransport:
    """Writes each message as an .eml file into a folder instead of sending it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written = 0

    def describe(self) -> str:
        return f"outbox folder {self.folder}"

    def send(self, envelope: Envelope) -> SendResult:
        safe = re.sub(r"[^A-Za-z0-9._@+-]", "_", envelope.recipient)[:150]
        path = self.folder / f"{safe}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(envelope.data)
        tmp.replace(path)
        self.written += 1
        return SendResult(True, 250, f"written to {path}")

    def close(self) -> None:
        return None


def make_transport(smtp: SMTPConfig, outbox: Path) -> Transport:
    """SMTP when SMTP_HOST is set, else .eml files in the ``outbox`` folder."""
    return SMTPTransport(smtp) if smtp.host else OutboxTransport(outbox)
