"""Messages as byte templates: an issue variant's MIME bytes are built once, then each subscriber's
values are put in with a few joins, so a 40 KB message costs microseconds rather than an
email-package pass.

The template keeps the variant's HTML and text split at the personalisation markers of
``render.MARK``. Every constant piece is quoted-printable encoded once; a subscriber's values are
encoded on their own, and pieces are joined with QP soft line breaks (``=`` CRLF), which decoders
drop. So the decoded body is exactly what ``render.personalize`` gives, line lengths stay within
RFC 2045's 76 characters, and no line starts with a dot (a leading ``.`` is written ``=2E``), so
the bytes need no SMTP dot-stuffing. Headers that change per subscriber (To, Message-ID,
List-Unsubscribe) are written directly; the rest are serialised once by the email package.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from .errors import ConfigError
from .mailer import Envelope, address_of, domain_of, one_line
from .render import MARK, Personal, Rendered

CRLF = b"\r\n"
SOFT = b"=\r\n"
_MARKER = re.compile("(" + "|".join(re.escape(m) for m in MARK.values()) + ")")
_KEY_OF = {m: k for k, m in MARK.items()}
_LEADING_DOT = re.compile(rb"(?m)^\.")
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"list-id", b"list-unsubscribe",
                  b"list-unsubscribe-post", b"reply-to", b"mime-version", b"content-type")


def _lines(text: str) -> bytes:
    """UTF-8 with '\\n' line ends and a final newline, as the email package's set_content makes it."""
    return b"".join(line + b"\n" for line in text.encode("utf-8").splitlines())


def _cut(line: bytes, limit: int) -> int:
    """Where to break ``line`` at or before ``limit``: never inside an =XX escape, never before a dot."""
    cut = limit
    while True:
        if line[cut - 1:cut] == b"=":
            cut -= 1
        elif line[cut - 2:cut - 1] == b"=":
            cut -= 2
        elif line[cut:cut + 1] == b".":
            cut -= 1
        else:
            return cut


def _wrap(line: bytes, room: int) -> bytes:
    """One encoded line broken with soft breaks so each line, its '=' included, fits in ``room``."""
    out = []
    while len(line) > room:
        cut = _cut(line, room - 1)
        out.append(line[:cut] + b"=\n")
        line = line[cut:]
    out.append(line)
    return b"".join(out)


def qp(data: bytes) -> bytes:
    """One piece in quoted-printable, CRLF line ends, ending on a line boundary (soft break if needed).

    Lines stay within 76 characters and none starts with a dot, so no dot-stuffing is needed."""
    if not data:
        return b""
    enc = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    if enc.startswith(b".") or b"\n." in enc:
        enc = b"\n".join(_wrap(line, 76) for line in _LEADING_DOT.sub(b"=2E", enc).split(b"\n"))
    if not enc.endswith(b"\n"):
        last = enc.rfind(b"\n") + 1
        enc = enc[:last] + _wrap(enc[last:], 75) + b"=\n"
    return enc.replace(b"\n", CRLF)


@dataclass(frozen=True)
class _Part:
    """A body part as alternating constant (already encoded) pieces and marker keys."""

    head: bytes
    pieces: tuple[bytes | str, ...]  # bytes: encoded constant; str: a key of MARK
    escape: bool


def _part(content_type: str, body: str, escape: bool) -> _Part:
    encoded: list[bytes | str] = []
    normalised = _lines(body).decode("utf-8")
    for i, chunk in enumerate(_MARKER.split(normalised)):
        if i % 2:
            encoded.append(_KEY_OF[chunk])
        elif chunk:
            encoded.append(qp(chunk.encode("utf-8")))
    head = (f'Content-Type: {content_type}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii")
    return _Part(head=head, pieces=tuple(encoded), escape=escape)


def _header(name: str, value: str) -> bytes:
    return f"{name}: {value}\r\n".encode() if value.isascii() else _encoded_header(name, value)


def _encoded_header(name: str, value: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg[name] = value
    return bytes(msg)[: -len(CRLF)]


class DKIMSigner:
    """DKIM signatures (dkimpy) that cover List-Unsubscribe and List-Unsubscribe-Post (RFC 8058)."""

    def __init__(self, key_file: Path, selector: str, domain: str) -> None:
        try:
            self.key = key_file.read_bytes()
        except OSError as exc:
            raise ConfigError("environment", "DKIM_KEY_FILE", f"cannot read {key_file}: {exc.strerror}") from None
        self.selector, self.domain = selector.encode("ascii"), domain.encode("ascii")

    def sign(self, data: bytes) -> bytes:
        import dkim

        headers = [h for h in SIGNED_HEADERS if re.search(rb"(?im)^" + h + rb":", data.split(b"\r\n\r\n", 1)[0])]
        signature = dkim.sign(data, self.selector, self.domain, self.key, include_headers=headers,
                              canonicalize=(b"relaxed", b"relaxed"))
        return bytes(signature) + data


class MessageTemplate:
    """One issue variant's message; ``fill`` makes one subscriber's Envelope from it."""

    def __init__(self, variant: Rendered, *, sender: str, list_id: str, subject_prefix: str = "",
                 unsubscribe_mailto: str | None = None, reply_to: str | None = None,
                 extra_headers: dict[str, str] | None = None, date: str | None = None,
                 signer: DKIMSigner | None = None) -> None:
        self.sender = address_of(sender)
        self.domain = domain_of(sender)
        self.mailto = f", <mailto:{unsubscribe_mailto}?subject=unsubscribe>" if unsubscribe_mailto else ""
        self.signer = signer
        constant = EmailMessage(policy=policy.SMTP)
        constant["From"] = sender
        constant["Subject"] = subject_prefix + variant.subject
        constant["Date"] = date or formatdate(usegmt=True)
        constant["List-Id"] = list_id
        constant["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if reply_to:
            constant["Reply-To"] = reply_to
        for key, value in (extra_headers or {}).items():
            constant[key] = value
        boundary = f"===============digest{secrets.token_hex(12)}=="
        self.head = bytes(constant)[: -len(CRLF)]  # headers without the blank line
        self.mime = (f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
                     ).encode("ascii")
        self.delimiter = f"--{boundary}\r\n".encode("ascii")
        self.close = f"--{boundary}--\r\n".encode("ascii")
        self.parts = (_part("text/plain", variant.text, escape=False), _part("text/html", variant.html, escape=True))

    def message_id(self) -> str:
        return f"<{secrets.token_hex(10)}@{self.domain}>"

    def fill(self, who: Personal, message_id: str | None = None) -> Envelope:
        """One subscriber's message: headers and body values in place, ready for SMTP as it is."""
        message_id = message_id or self.message_id()
        name = one_line(who.name)
        to = formataddr((name, who.email), charset="utf-8") if name else who.email
        out = [self.head, _header("To", to.replace("\n", "\r\n")),
               b"Message-ID: ", message_id.encode("ascii"), CRLF,
               b"List-Unsubscribe: <", who.unsubscribe_url.encode("ascii"), b">", self.mailto.encode("ascii"), CRLF,
               self.mime]
        values = {"greeting": who.greeting, "name": who.name, "email": who.email,
                  "unsubscribe_url": who.unsubscribe_url, "preferences_url": who.preferences_url}
        plain = {k: qp(one_line(v).encode("utf-8")) for k, v in values.items()}
        escaped = {k: qp(html.escape(one_line(v), quote=True).encode("utf-8")) for k, v in values.items()}
        for part in self.parts:
            out.append(self.delimiter)
            out.append(part.head)
            chosen = escaped if part.escape else plain
            out.extend(chosen[p] if isinstance(p, str) else p for p in part.pieces)
            out.append(CRLF)  # the line break before a boundary belongs to the boundary (RFC 2046)
        out.append(self.close)
        data = b"".join(out)
        if self.signer is not None:
            data = self.signer.sign(data)
        return Envelope(sender=self.sender, recipient=who.email, message_id=message_id, data=data, dot_safe=True)
