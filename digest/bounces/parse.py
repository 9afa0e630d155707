"""What a returned mail says: a bounce (hard or soft), a complaint, an auto-reply, or nothing known. Pure.

In order of authority:

1. RFC 5965 ARF feedback reports (multipart/report; report-type=feedback-report): a complaint when the
   Feedback-Type is abuse or fraud (others, such as not-spam or auth-failure, change nothing);
2. RFC 3464 delivery-status reports (multipart/report; report-type=delivery-status): per recipient,
   Action failed with a 5.x.x Status is hard; a 4.x.x Status or Action delayed is soft; delivered,
   relayed and expanded change nothing. Two permanent codes count as soft, as the big senders count
   them: 5.2.2 (mailbox full) and 5.7.x (refused by policy, which is about the message or the sender,
   not the address);
3. other mail goes to flufl.bounce, the GNU Mailman project's detectors of the formats real servers
   send (qmail, Exim, Postfix without DSN, Exchange, Yahoo, …), with the same two codes counted soft;
4. what none of them finds a failure in is an auto-reply or out-of-office note when it says so (RFC 3834
   Auto-Submitted, the X-Autoreply family, Precedence, the usual subjects), and ignored either way.
   (Bounces carry Auto-Submitted too, which is why this test comes last.)

A report also carries what matches it to a delivery: every address it was sent to or mentions (VERP
tokens are signed, so a stray one matches nothing), the Message-IDs of the returned original, and the
failing recipients.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from enum import StrEnum

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY = re.compile(r"(^|said:\s*)[45]\d\d\b")
_MESSAGE_ID = re.compile(r"(?im)^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|auto:|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|absence|on vacation|vacation)",
    re.I,
)
COMPLAINT_TYPES = frozenset({"abuse", "fraud"})
ENVELOPE_HEADERS = (
    "To",
    "Cc",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "X-Rcpt-To",
    "X-Failed-Recipients",
)


class Kind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    AUTOREPLY = "autoreply"  # out of office and other automatic answers: ignored
    OTHER = "other"  # a report that changes nothing (delivered, not-spam) or mail not understood


@dataclass(frozen=True)
class Report:
    """One returned mail, understood."""

    kind: Kind
    detector: str  # arf, dsn, autoreply, flufl.bounce, none
    key: str  # its own Message-ID, or a digest of its bytes: one report, once
    recipients: tuple[str, ...] = ()  # the failing (or complaining) addresses, lower case
    code: str = ""  # 5.1.1, or the feedback type
    diagnostic: str = ""
    message_ids: tuple[str, ...] = ()  # Message-IDs of the original message it returns
    addresses: tuple[str, ...] = ()  # every address it was sent to or mentions (for VERP)


def parse(data: bytes) -> Report:
    msg = message_from_bytes(data)
    key = _key(msg, data)
    addresses = _addresses(msg, data)
    originals = _original_ids(msg, data)
    content = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "", header="content-type") or "").lower()
    if content == "multipart/report" and report_type == "feedback-report":
        return _arf(msg, key, addresses, originals)
    if content == "multipart/report" and report_type == "delivery-status":
        found = _dsn(msg, data, key, addresses, originals)
        if found is not None:
            return found
    found = _flufl(msg, data, key, addresses, originals)
    if found is None and _auto_reply(msg):
        return Report(Kind.AUTOREPLY, "autoreply", key, addresses=addresses)
    return found or Report(Kind.OTHER, "none", key, message_ids=originals, addresses=addresses)


def _key(msg: Message, data: bytes) -> str:
    own = str(msg.get("Message-ID", "")).strip()
    return own[:400] if own else "sha256:" + hashlib.sha256(data).hexdigest()


def _addresses(msg: Message, data: bytes) -> tuple[str, ...]:
    found = [a for h in ENVELOPE_HEADERS for _, a in getaddresses([str(v) for v in msg.get_all(h, [])]) if a]
    found += _ADDRESS.findall(data.decode("utf-8", "replace"))
    return tuple(dict.fromkeys(a.lower() for a in found))


def _original_ids(msg: Message, data: bytes) -> tuple[str, ...]:
    """Message-IDs in the returned original: its message/rfc822 or headers part, or quoted in the text."""
    own = str(msg.get("Message-ID", "")).strip()
    ids = []
    for part in msg.walk():
        returned = _returned_headers(part)
        if returned is not None and returned.get("Message-ID"):
            ids.append(str(returned["Message-ID"]).strip())
    ids += _MESSAGE_ID.findall(data.split(b"\n\n", 1)[-1].decode("utf-8", "replace"))
    return tuple(dict.fromkeys(i for i in ids if i and i != own))


def _returned_headers(part: Message) -> Message | None:
    content = part.get_content_type()
    if content == "message/rfc822":
        payload = part.get_payload()
        first = payload[0] if isinstance(payload, list) and payload else None
        return first if isinstance(first, Message) else None
    if content in ("text/rfc822-headers", "message/rfc822-headers"):
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(part.get_payload())
        return HeaderParser().parsestr(text)
    return None


def _part(msg: Message, content_type: str) -> Message | None:
    return next((p for p in msg.walk() if p.get_content_type() == content_type), None)


def _fields(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    return [
        HeaderParser().parsestr(block.strip() + "\n") for block in re.split(r"\r?\n\s*\r?\n", text) if block.strip()
    ]


def _value(block: Message, name: str) -> str:
    """A typed field's address or text: 'rfc822; a@b' -> 'a@b'."""
    raw = " ".join(str(block.get(name, "")).split())
    return raw.split(";", 1)[1].strip() if ";" in raw else raw


def _arf(msg: Message, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]) -> Report:
    part = _part(msg, "message/feedback-report")
    blocks = _fields(part) if part is not None else []
    block = blocks[0] if blocks else Message()
    feedback = _value(block, "Feedback-Type").lower()
    recipients = [_value(b, "Original-Rcpt-To") for b in blocks for _ in b.get_all("Original-Rcpt-To", [])]
    recipients += [_value(block, "Removal-Recipient")] if block.get("Removal-Recipient") else []
    if not any(recipients):
        returned = next((r for p in msg.walk() if (r := _returned_headers(p)) is not None), None)
        if returned is not None:
            recipients = [a for _, a in getaddresses([str(v) for v in returned.get_all("To", [])])]
    kind = Kind.COMPLAINT if feedback in COMPLAINT_TYPES else Kind.OTHER
    plain = (parseaddr(r)[1].lower() for r in recipients if r)
    return Report(
        kind,
        "arf",
        key,
        tuple(dict.fromkeys(r for r in plain if "@" in r)),
        feedback,
        _value(block, "User-Agent"),
        originals,
        addresses,
    )


def _classify(action: str, status: str) -> Kind | None:
    if action in ("delivered", "relayed", "expanded"):
        return None
    code = _STATUS.search(status)
    if action == "delayed" or (code is not None and code[1] == "4"):
        return Kind.SOFT
    if code is not None and code[1] == "5":
        return Kind.SOFT if (code[2], code[3]) == ("2", "2") or code[2] == "7" else Kind.HARD
    return Kind.HARD if action == "failed" else None


def _dsn(msg: Message, data: bytes, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]) -> Report | None:
    part = _part(msg, "message/delivery-status")
    if part is None:
        return None
    hard: list[tuple[str, str, str]] = []
    soft: list[tuple[str, str, str]] = []
    for block in _fields(part)[1:] or _fields(part):
        recipient = _value(block, "Final-Recipient") or _value(block, "Original-Recipient")
        status = _value(block, "Status")
        kind = _classify(_value(block, "Action").lower(), status)
        if not recipient or kind is None:
            continue
        code = _STATUS.search(status)
        row = (recipient.lower(), code[0] if code else status, _value(block, "Diagnostic-Code"))
        (hard if kind == Kind.HARD else soft).append(row)
    chosen, kind = (hard, Kind.HARD) if hard else (soft, Kind.SOFT)
    if not chosen:
        return Report(Kind.OTHER, "dsn", key, message_ids=originals, addresses=addresses)
    diagnostic = chosen[0][2] or _diagnostic(_text(msg, data), (chosen[0][0],))[1]
    return Report(kind, "dsn", key, tuple(r[0] for r in chosen), chosen[0][1], diagnostic[:1000], originals, addresses)


def _auto_reply(msg: Message) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        auto.startswith("auto-replied")
        or any(h in msg for h in ("X-Autoreply", "X-Autorespond", "X-Autoresponse"))
        or precedence == "auto_reply"
        or bool(_AUTO_SUBJECT.match(str(msg.get("Subject", ""))))
    )


def _flufl(
    msg: Message, data: bytes, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]
) -> Report | None:
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(msg)
    failed = permanent or temporary
    if not failed:
        return None
    recipients = tuple(sorted({a.decode("utf-8", "replace").strip("<>").lower() for a in failed}))
    code, diagnostic = _diagnostic(_text(msg, data), recipients)
    kind = Kind.HARD if permanent else Kind.SOFT
    if kind == Kind.HARD and code and (code.startswith("5.2.2") or code.startswith("5.7.")):
        kind = Kind.SOFT
    return Report(kind, "flufl.bounce", key, recipients, code, diagnostic, originals, addresses)


def _text(msg: Message, data: bytes) -> str:
    """The human-readable text of a report: its text/plain parts, else the whole body."""
    parts = [
        p.get_payload(decode=True) for p in msg.walk() if p.get_content_type() == "text/plain" and not p.is_multipart()
    ]
    texts = [p.decode("utf-8", "replace") for p in parts if isinstance(p, bytes)]
    return "\n".join(texts) if texts else data.split(b"\n\n", 1)[-1].decode("utf-8", "replace")


def _diagnostic(body: str, recipients: tuple[str, ...]) -> tuple[str, str]:
    """The enhanced status code and the server's line about the first recipient, when the text gives them."""
    lines = [" ".join(line.split()) for line in body.splitlines()]
    near = [line for line in lines if _STATUS.search(line) and re.search(r"\b[45]\d\d\b", line)]
    near = near or [line for line in lines if _STATUS.search(line) or _REPLY.search(line)]
    about = [line for line in near if any(r in line.lower() for r in recipients)] or near
    about = about or [line for line in lines if any(f"<{r}>" in line.lower() for r in recipients)]
    if not about:
        return "", ""
    code = _STATUS.search(about[0])
    return (code[0] if code else ""), about[0][:1000]
