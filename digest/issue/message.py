"""The message stage, and the only place that turns content into an RFC 5322 message: issues (each
subscriber's copy and the editor's [TEST] copies) and the sign-up notices alike.

A message is built as a byte template: a rendered variant's MIME bytes are built once, then each
recipient's values are put in with a few joins, so a 40 KB message costs microseconds rather than an
email-package pass.

The template keeps the variant's HTML and text split at the personalisation markers of
``render.MARK``. Every constant piece is quoted-printable encoded once; a recipient's values are
encoded on their own, and pieces are joined with QP soft line breaks (``=`` CRLF), which decoders
drop. So the decoded body is exactly what ``render.personalize`` gives, line lengths stay within
RFC 2045's 76 characters, and no line starts with a dot (a leading ``.`` is written ``=2E``), so
the bytes need no SMTP dot-stuffing. Headers that change per recipient (To, Message-ID,
List-Unsubscribe) are written directly; the rest are serialised once by the email package.

``IssueMessages`` gives the messages of one stored issue, ``NoticeMessages`` those of sign-up notices;
``transport`` carries the resulting Envelopes.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from subscribers.model import Subscriber
from subscribers.tokens import Tokens

from ..errors import ConfigError, NothingToSend
from ..models import Issue
from .compose import chosen, content_key
from .render import MARK, Personal, Rendered, Renderer, one_line

if TYPE_CHECKING:
    from jinja2 import Environment

    from subscribers.service import Notice

    from ..bounces.verp import Verp
    from ..config import Settings

CRLF = b"\r\n"
SOFT = b"=\r\n"
_MARKER = re.compile("(" + "|".join(re.escape(m) for m in MARK.values()) + ")")
_KEY_OF = {m: k for k, m in MARK.items()}
_LEADING_DOT = re.compile(rb"(?m)^\.")
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # a display name with one of these is quoted (email.utils)
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"reply-to",
    b"mime-version",
    b"content-type",
)


def address_of(header_value: str) -> str:
    return parseaddr(header_value)[1]


def domain_of(header_value: str) -> str:
    return address_of(header_value).rpartition("@")[2] or "localhost"


def _lines(text: str) -> bytes:
    """UTF-8 with '\\n' line ends and a final newline, as the email package's set_content makes it."""
    return b"".join(line + b"\n" for line in text.encode("utf-8").splitlines())


def _cut(line: bytes, limit: int) -> int:
    """Where to break ``line`` at or before ``limit``: never inside an =XX escape, never before a dot."""
    cut = limit
    while True:
        if line[cut - 1 : cut] == b"=":
            cut -= 1
        elif line[cut - 2 : cut - 1] == b"=":
            cut -= 2
        elif line[cut : cut + 1] == b".":
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
class Envelope:
    """One recipient's finished message, as bytes, with its SMTP envelope (built here, sent by a transport)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    dot_safe: bool = False  # no line starts with '.', so SMTP needs no dot-stuffing


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
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    ).encode("ascii")
    return _Part(head=head, pieces=tuple(encoded), escape=escape)


def _header(name: str, value: str) -> bytes:
    return f"{name}: {value}\r\n".encode() if value.isascii() else _encoded_header(name, value)


def encode_words(name: str, value: str, budget: int = 39) -> bytes:
    """A header whose value is entirely RFC 2047 encoded words (UTF-8, base64) folded between words.

    Decoders drop the folding whitespace between two encoded words, so the unfolded value is ``value``
    exactly: CPython's own folding mixes plain and encoded words and leaves a doubled space where they
    meet. Each word holds at most ``budget`` bytes of whole characters, so every line stays under 78."""
    words: list[str] = []
    chunk = b""
    for char in value:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > budget:
            words.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += data
    words.append(chunk.decode("utf-8"))
    encoded = (f"=?utf-8?b?{binascii.b2a_base64(w.encode('utf-8'), newline=False).decode('ascii')}?=" for w in words)
    return f"{name}: ".encode("ascii") + "\r\n ".join(encoded).encode("ascii") + CRLF


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
        signature = dkim.sign(
            data, self.selector, self.domain, self.key, include_headers=headers, canonicalize=(b"relaxed", b"relaxed")
        )
        return bytes(signature) + data


class Content(Protocol):
    """What a message is made of: a subject and the two bodies (a ``render.Rendered`` is one)."""

    @property
    def subject(self) -> str: ...

    @property
    def html(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Letterhead:
    """The headers every message of this newsletter carries, and its DKIM signer."""

    sender: str
    list_id: str
    unsubscribe_mailto: str | None = None
    reply_to: str | None = None
    signer: DKIMSigner | None = None

    @classmethod
    def of(cls, settings: Settings) -> Letterhead:
        smtp = settings.smtp
        signer = None
        if smtp.dkim_key_file and smtp.dkim_selector and smtp.dkim_domain:
            signer = DKIMSigner(smtp.dkim_key_file, smtp.dkim_selector, smtp.dkim_domain)
        return cls(
            sender=settings.sender,
            list_id=settings.list_id_header,
            unsubscribe_mailto=settings.unsubscribe_mailto,
            reply_to=settings.reply_to,
            signer=signer,
        )


class MessageTemplate:
    """One piece of content as a message; ``fill`` makes one recipient's Envelope from it.

    With a ``list_id`` it is a list message (List-Id, List-Unsubscribe with the recipient's https link
    and the optional mailto, List-Unsubscribe-Post for one-click); without, a one-off message."""

    def __init__(
        self,
        content: Content,
        *,
        sender: str,
        list_id: str | None = None,
        subject_prefix: str = "",
        unsubscribe_mailto: str | None = None,
        reply_to: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        date: str | None = None,
        signer: DKIMSigner | None = None,
    ) -> None:
        self.sender = address_of(sender)
        self.domain = domain_of(sender)
        self.listed = list_id is not None
        self.mailto = f", <mailto:{unsubscribe_mailto}?subject=unsubscribe>" if unsubscribe_mailto else ""
        self.signer = signer
        constant = EmailMessage(policy=policy.SMTP)
        constant["From"] = sender
        subject = one_line(subject_prefix + content.subject)
        constant["Date"] = date or formatdate(usegmt=True)
        if list_id is not None:
            constant["List-Id"] = list_id
            constant["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if reply_to:
            constant["Reply-To"] = reply_to
        for key, value in (extra_headers or {}).items():
            constant[key] = value
        boundary = f"===============digest{secrets.token_hex(12)}=="
        self.head = bytes(constant)[: -len(CRLF)] + (  # headers without the blank line
            _header("Subject", subject) if subject.isascii() else encode_words("Subject", subject)
        )
        self.mime = (f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n').encode(
            "ascii"
        )
        self.delimiter = f"--{boundary}\r\n".encode("ascii")
        self.close = f"--{boundary}--\r\n".encode("ascii")
        self.parts = (_part("text/plain", content.text, escape=False), _part("text/html", content.html, escape=True))
        self.used = {
            escape: frozenset(
                p for part in self.parts if part.escape == escape for p in part.pieces if isinstance(p, str)
            )
            for escape in (False, True)
        }
        self.keys = self.used[False] | self.used[True]

    @classmethod
    def issue(cls, variant: Rendered, letterhead: Letterhead, subject_prefix: str = "") -> MessageTemplate:
        """An issue variant as a list message with the newsletter's headers."""
        return cls(
            variant,
            sender=letterhead.sender,
            list_id=letterhead.list_id,
            subject_prefix=subject_prefix,
            unsubscribe_mailto=letterhead.unsubscribe_mailto,
            reply_to=letterhead.reply_to,
            signer=letterhead.signer,
        )

    def message_id(self) -> str:
        """A new Message-ID: the time in nanoseconds (hex), then 6 random bytes. Ids made one after another
        sort one after another, so the outbox's index of them grows at its end, as a log does, instead of
        being written at a random place for each message sent."""
        return f"<{time.time_ns():x}.{secrets.token_hex(6)}@{self.domain}>"

    def fill(self, who: Personal, message_id: str | None = None, sender: str | None = None) -> Envelope:
        """One recipient's message: headers and body values in place, ready for SMTP as it is.

        ``sender`` is the envelope sender (MAIL FROM, a VERP address); by default the From address."""
        message_id = message_id or self.message_id()
        name = one_line(who.name)
        if not name:
            to = who.email
        elif name.isascii() and who.email.isascii() and not _SPECIALS.search(name):
            to = f"{name} <{who.email}>"  # what formataddr gives such a name, without its general path
        else:
            to = formataddr((name, who.email), charset="utf-8")
        out = [self.head, _header("To", to.replace("\n", "\r\n")), b"Message-ID: ", message_id.encode("ascii"), CRLF]
        if self.listed:
            out += [
                b"List-Unsubscribe: <",
                who.unsubscribe_url.encode("ascii"),
                b">",
                self.mailto.encode("ascii"),
                CRLF,
            ]
        out.append(self.mime)
        values = who.values()
        lines = {k: one_line(values[k]) for k in self.keys}  # only the values the parts use
        encoded: dict[str, bytes] = {}  # a value the escape leaves as it is (a link, most names) once

        def qp_of(value: str) -> bytes:
            if value not in encoded:
                encoded[value] = qp(value.encode("utf-8"))
            return encoded[value]

        plain = {k: qp_of(lines[k]) for k in self.used[False]}
        escaped = {k: qp_of(html.escape(lines[k], quote=True)) for k in self.used[True]}
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
        return Envelope(
            sender=sender or self.sender, recipient=who.email, message_id=message_id, data=data, dot_safe=True
        )


class IssueMessages:
    """The messages of one stored issue: each variant is rendered (and made a template) once, on first use,
    safely from several sending threads; then each subscriber's copy is a fill.

    A variant is keyed by what it holds (``compose.content_key``), not by the choice that led to it: readers
    of 100 topic selections × 20 jurisdiction selections share one render whenever their stories are the
    same."""

    def __init__(
        self,
        issue: Issue,
        renderer: Renderer,
        letterhead: Letterhead,
        tokens: Tokens,
        base_url: str,
        topics: Iterable[str],
        reader: Callable[[int], str] | None = None,
        finish: Callable[[Rendered], Rendered] | None = None,
        verp: Verp | None = None,
    ) -> None:
        self.issue, self.renderer, self.letterhead, self.tokens = issue, renderer, letterhead, tokens
        self.reader = reader  # subscriber id → the reader part of click links, when they name readers
        self.finish = finish  # a last touch to each rendered variant (the open image)
        self.verp = verp  # with it, each copy's envelope sender names its delivery
        self.base_url = base_url.rstrip("/")
        self.known = frozenset(topics)
        self._templates: dict[tuple[object, str], MessageTemplate | None] = {}
        self._contents: dict[tuple[frozenset[str], frozenset[str]], object] = {}
        self._lock = threading.Lock()
        self.renders = 0  # how many variants were rendered

    def template(
        self, topics: Iterable[str] = (), subject_prefix: str = "", places: Iterable[str] = ()
    ) -> MessageTemplate | None:
        """The template for readers of ``topics`` (none or no known one: the whole issue) and the
        jurisdictions ``places`` (none: all); None when the issue has nothing for them."""
        choice = (frozenset(topics) & self.known, frozenset(places))
        content = self._contents.get(choice)
        if content is None:
            content = content_key(chosen(self.issue, choice[0] or None, choice[1] or None))
            self._contents[choice] = content
        if content == ():
            return None  # nothing in the issue for them: nothing to render
        key = (content, subject_prefix)
        if key in self._templates:
            return self._templates[key]
        with self._lock:
            if key not in self._templates:
                self.renders += 1
                variant = self.renderer.render(self.issue, choice[0] or None, choice[1] or None)
                if variant is not None and self.finish is not None:
                    variant = self.finish(variant)
                self._templates[key] = (
                    MessageTemplate.issue(variant, self.letterhead, subject_prefix) if variant is not None else None
                )
            return self._templates[key]

    def personal(self, sub: Subscriber) -> Personal:
        """A subscriber's values, with their signed unsubscribe and preferences links."""
        return Personal(
            name=sub.name,
            email=sub.email,
            unsubscribe_url=f"{self.base_url}/unsubscribe/{self.tokens.make('unsubscribe', sub.id)}",
            preferences_url=f"{self.base_url}/preferences/{self.tokens.make('preferences', sub.id)}",
            reader=self.reader(sub.id) if self.reader is not None else "",
        )

    def for_subscriber(self, sub: Subscriber) -> Envelope | None:
        """The subscriber's copy; None when the issue has nothing in the topics they follow."""
        template = self.template(sub.topics, places=sub.jurisdictions)
        if template is None:
            return None
        sender = self.verp.address(self.issue.id, sub.id) if self.verp is not None else None
        return template.fill(self.personal(sub), sender=sender)

    def for_test(self, email: str) -> Envelope:
        """The whole issue to an editor's address: '[TEST] ' before the subject, placeholder links."""
        template = self.template(subject_prefix="[TEST] ")
        if template is None:
            raise NothingToSend(f"issue {self.issue.week} has no article to send")
        return template.fill(
            Personal(
                name="",
                email=email,
                unsubscribe_url=f"{self.base_url}/unsubscribe/test",
                preferences_url=f"{self.base_url}/preferences/test",
            )
        )


@dataclass(frozen=True)
class _Notice:
    subject: str
    html: str
    text: str


NOTICE_SUBJECTS = {"confirm": "Confirm your subscription", "already": "You are already subscribed"}


class NoticeMessages:
    """Sign-up notices ('confirm' with a link, 'already' subscribed) as one-off messages, from the
    templates email/confirm.txt and email/confirm.html."""

    def __init__(self, env: Environment, letterhead: Letterhead, title: str) -> None:
        self.env, self.letterhead, self.title = env, letterhead, title

    def envelope(self, notice: Notice) -> Envelope:
        ctx = {"notice": notice, "title": self.title}
        content = _Notice(
            subject=f"{self.title}: {NOTICE_SUBJECTS.get(notice.kind, NOTICE_SUBJECTS['already'])}",
            html=self.env.get_template("email/confirm.html").render(ctx),
            text=self.env.get_template("email/confirm.txt").render(ctx),
        )
        template = MessageTemplate(
            content,
            sender=self.letterhead.sender,
            signer=self.letterhead.signer,
            extra_headers={"Auto-Submitted": "auto-generated"},
        )
        return template.fill(Personal(name=notice.name, email=notice.email, unsubscribe_url="", preferences_url=""))
