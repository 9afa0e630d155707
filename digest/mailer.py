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


@dataclass(frozen=True)
class Envelope:
    """One subscriber's message, as bytes, with its envelope."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


@dataclass(frozen=True)
class SendResult:
    ok: bool
    code: int
    text: str

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
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def build_message(*, sender: str, to_email: str, to_name: str, subject: str, text: str, html: str,
                  list_id: str, unsubscribe_url: str, unsubscribe_mailto: str | None = None,
                  reply_to: str | None = None, extra_headers: dict[str, str] | None = None) -> Envelope:
    """A multipart/alternative message with the headers of the contract."""
    to_name, subject = one_line(to_name), one_line(subject)
    msg = EmailMessage(policy=policy.SMTP)
    message_id = make_msgid(domain=domain_of(sender))
    msg["From"] = sender
    msg["To"] = formataddr((to_name, to_email)) if to_name else to_email
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
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
        return smtp

    def send(self, envelope: Envelope) -> SendResult:
        smtp = self.connect()
        try:
            refused = smtp.sendmail(envelope.sender, [envelope.recipient], envelope.data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return SendResult(False, code, _text(text))
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            self._reset(smtp)
            return SendResult(False, exc.smtp_code, _text(exc.smtp_error))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abandon()
            return SendResult(False, 421, f"connection lost: {exc}")
        if refused:
            code, text = next(iter(refused.values()))
            return SendResult(False, code, _text(text))
        return SendResult(True, 250, "accepted")

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
