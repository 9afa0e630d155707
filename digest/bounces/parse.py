"""What a returned mail says: a bounce (hard or soft) and why, a complaint, an auto-reply, or nothing. Pure.

In order of authority:

1. RFC 5965 ARF feedback reports: a complaint when the Feedback-Type is abuse or fraud (others, such as
   not-spam or auth-failure, change nothing); Microsoft JMRP reports (the complained-of message with its
   X-HmXmrOriginalRecipient) are complaints too;
2. Amazon SES notifications mailed as JSON (Bounce, Complaint; a Delivery changes nothing);
3. RFC 3464 delivery-status reports, per recipient: delivered, relayed and expanded change nothing, a
   failed or delayed recipient is judged by digest/bounces/reasons.py from its Status and
   Diagnostic-Code (or, when it gives none, the report's text);
4. mail without a delivery-status part, as Exchange/Office 365 "Undeliverable", Yahoo "Failure Notice",
   qmail, OpenSMTPD, DragonFly, WorkMail, Notes, Verizon and many more send it: when its headers say it
   is a returned mail (From MAILER-DAEMON or postmaster, a null Return-Path, X-Failed-Recipients, a
   failure Subject), the failing recipient is read from X-Failed-Recipients, DSN fields in its text,
   GNU Mailman's flufl.bounce detectors, the addresses its explanation names, or the returned
   original's To, in that order; its reason from the explanation's code and words;
5. what none of them finds a failure in is an auto-reply when it says so (RFC 3834 Auto-Submitted, the
   X-Autoreply family, Precedence, the usual subjects), and ignored either way.

Only a bounce whose reason is about the address (reasons.Side.ADDRESS) and permanent is hard.

A report also carries what matches it to a delivery: every address it was sent to or mentions (VERP
tokens are signed, so a stray one matches nothing), the Message-IDs of the returned original, and the
failing recipients. Parsing is linear in the message's size: at most ``MAX_BYTES`` are read, every
pattern is bounded, and the text scanned for a reason is capped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from enum import StrEnum

from . import reasons
from .reasons import STATUS, Verdict, judge

MAX_BYTES = 2_000_000  # a bounce longer than this is read up to here (the rest is the returned original)
TEXT_CAP = 64_000  # characters of explanation scanned for recipients and reasons
FLUFL_CAP = 32_000  # bytes flufl.bounce's detectors see: they try dozens of patterns on every line
_REPLY = re.compile(r"(^|said:\s{0,5})[45]\d\d\b")
_MESSAGE_ID = re.compile(r"(?im)^message-id:[ \t]{0,20}(?:\r?\n[ \t]{1,20})?(<[^<>\s]{1,250}>)")
_ADDRESS = re.compile(r"(?<![A-Za-z0-9._%+=-])[A-Za-z0-9._%+=-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
_PLAIN = re.compile(r"[a-z0-9._%+=-]{1,64}@[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){0,8}\.[a-z]{1,24}")
_AUTO_SUBJECT = re.compile(
    r"^\s{0,10}(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|auto:|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|absence|on vacation|vacation)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|failed|has failed|problem|report|notification)|"
    r"failure notice|returned mail|mail delivery failed|could not be delivered|non.?delivery|nondeliverable|"
    r"bounce|error sending|mail system error|could not send|not delivered|delivery unsuccessful|"
    r"unable to deliver|delivery error|mail failure|failed delivery|rejected|delivery status",
    re.I,
)
_DAEMON = re.compile(r"mailer-daemon|post_?master|mail delivery|mail administrator|mdaemon|mailer|ndr|daemon", re.I)
_MARKER = re.compile(
    r"(?im)^[ \t>|-]{0,20}(below this line is a copy|this is a copy of|"
    r"message headers follow|below is a copy|copy of (the |your )?(original|returned|message)|returned message|"
    r"original message( follows| headers| below|:|[ \t]{0,5}-{2,}|[ \t]{0,5}$)|"
    r"unsent message (below|follows)|original message headers|headers of the original|"
    r"-{3,} ?(returned|original|unsent|message))"
)
_FAILURE = re.compile(
    r"could not be delivered to|delivery (to the following recipients? )?(has )?failed|failed permanently|"
    r"unable to deliver (your )?(message|mail)|the following addresses had (permanent|fatal)|"
    r"delivery to the following recipients? failed|undeliverable (mail|message)|returned to sender",
    re.I,
)
_TEMPORARY = re.compile(
    r"will (be )?retr|still trying|delayed|has not yet been delivered|warning: message|temporar", re.I
)
_DSN_FIELD = re.compile(
    r"(?im)^(final-recipient|original-recipient|action|status|diagnostic-code)[ \t]{0,5}:[ \t]{0,5}(.{0,500})$"
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
    detector: str  # arf, jmrp, ses, dsn, text, autoreply, none
    key: str  # its own Message-ID, or a digest of its bytes: one report, once
    recipients: tuple[str, ...] = ()  # the failing (or complaining) addresses, lower case
    code: str = ""  # 5.1.1, or the feedback type
    diagnostic: str = ""
    message_ids: tuple[str, ...] = ()  # Message-IDs of the original message it returns
    addresses: tuple[str, ...] = ()  # every address it was sent to or mentions (for VERP)
    reason: str = ""  # userunknown, mailboxfull, blocked, … (reasons.py); "feedback" for a complaint


def parse(data: bytes) -> Report:
    data = data[:MAX_BYTES]
    msg = message_from_bytes(data)
    key = _key(msg, data)
    addresses = _addresses(msg, data)
    originals = _original_ids(msg, data)
    content = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "", header="content-type") or "").lower()
    if content == "multipart/report" and report_type == "feedback-report":
        return _arf(msg, key, addresses, originals)
    jmrp = _jmrp(msg, key, addresses, originals)
    if jmrp is not None:
        return jmrp
    explanation = _explanation(msg, data.replace(b"\r\n", b"\n"))
    ses = _ses(explanation, key, addresses, originals)
    if ses is not None:
        return ses
    if _part(msg, "message/delivery-status") is not None:
        found = _dsn(msg, explanation, key, addresses, originals)
        if found is not None:
            return found
    found = _text_bounce(msg, data, explanation, key, addresses, originals)
    if found is not None:
        return found
    if _auto_reply(msg):
        return Report(Kind.AUTOREPLY, "autoreply", key, addresses=addresses, reason="vacation")
    return Report(Kind.OTHER, "none", key, message_ids=originals, addresses=addresses)


def _key(msg: Message, data: bytes) -> str:
    own = str(msg.get("Message-ID", "")).strip()
    return own[:400] if own else "sha256:" + hashlib.sha256(data).hexdigest()


def _headers(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(name, [])]
    except Exception:  # a header the email package cannot decode is not one we can use
        return []


def _addrs(values: list[str]) -> list[str]:
    return [a.lower() for _, a in getaddresses(values) if a and "@" in a]


def _addresses(msg: Message, data: bytes) -> tuple[str, ...]:
    found = [a for h in ENVELOPE_HEADERS for a in _addrs(_headers(msg, h))]
    found += _ADDRESS.findall(data[: TEXT_CAP * 4].decode("utf-8", "replace"))
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


def _own_parts(msg: Message) -> Iterator[Message]:
    """The parts of the report itself, not of the original it returns."""
    if msg.get_content_type().startswith("message/") or msg.get_content_type() == "text/rfc822-headers":
        return
    if msg.is_multipart():
        payload = msg.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from _own_parts(sub)
    else:
        yield msg


def _decoded(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return str(part.get_payload())
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def _explanation(msg: Message, data: bytes) -> str:
    """The human-readable text the reporting server wrote, up to where the returned original begins (with
    no readable text part, as when a part's headers are broken: the raw body)."""
    plain = [p for p in _own_parts(msg) if p.get_content_type() == "text/plain"]
    html = [p for p in _own_parts(msg) if p.get_content_type() == "text/html"]
    if plain:
        text = "\n".join(_decoded(p)[:TEXT_CAP] for p in plain)
    elif html:
        text = re.sub(r"<[^<>]{0,2000}>", " ", _decoded(html[0])[:TEXT_CAP])
    else:
        text = data.partition(b"\n\n")[2][:TEXT_CAP].decode("utf-8", "replace")
    text = text[:TEXT_CAP]
    cut = _MARKER.search(text)
    if cut is not None and cut.start() > 0:
        return text[: cut.start()]
    return text


def _returned_text(msg: Message) -> str:
    """What follows the explanation in a single-part report: the returned original, as text."""
    plain = [p for p in _own_parts(msg) if p.get_content_type() == "text/plain"]
    text = "\n".join(_decoded(p)[:TEXT_CAP] for p in plain)[:TEXT_CAP]
    cut = _MARKER.search(text)
    return text[cut.end() :] if cut is not None else ""


def _fields(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    return [
        HeaderParser().parsestr(block.strip() + "\n")
        for block in re.split(r"\r?\n[ \t\r]{0,200}\n", text[:TEXT_CAP])
        if block.strip()
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
            recipients = _addrs(_headers(returned, "To"))
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
        "feedback" if kind == Kind.COMPLAINT else feedback,
    )


def _jmrp(msg: Message, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]) -> Report | None:
    """Microsoft's Junk Mail Reporting Program: the reported message attached, its recipient in a header."""
    for part in msg.walk():
        returned = _returned_headers(part)
        if returned is None or not returned.get("X-HmXmrOriginalRecipient"):
            continue
        recipients = _addrs(_headers(returned, "X-HmXmrOriginalRecipient")) or _addrs(_headers(returned, "To"))
        return Report(Kind.COMPLAINT, "jmrp", key, tuple(recipients), "abuse", "", originals, addresses, "feedback")
    return None


def _ses(text: str, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]) -> Report | None:
    """An Amazon SES notification mailed as JSON (directly or inside an SNS envelope)."""
    start = text.find("{")
    if start < 0 or ("notificationType" not in text and "eventType" not in text):
        return None
    decoder = json.JSONDecoder(strict=False)  # mailers wrap long lines, inside strings too
    try:
        note, _ = decoder.raw_decode(text[start:])
        if isinstance(note, dict) and isinstance(note.get("Message"), str):
            note = decoder.decode(note["Message"])
    except ValueError:
        return None
    if not isinstance(note, dict):
        return None
    kind = note.get("notificationType") or note.get("eventType")
    mail = note.get("mail")
    common = mail.get("commonHeaders") if isinstance(mail, dict) else None
    sent_id = common.get("messageId") if isinstance(common, dict) else None
    ids = (f"<{sent_id.strip('<>')}>",) if isinstance(sent_id, str) and sent_id else ()
    if kind == "Complaint":
        complaint = note.get("complaint") or {}
        rcpts = [str(r.get("emailAddress", "")).lower() for r in complaint.get("complainedRecipients") or []]
        code = str(complaint.get("complaintFeedbackType") or "abuse")
        return Report(Kind.COMPLAINT, "ses", key, tuple(rcpts), code, "", originals + ids, addresses, "feedback")
    if kind != "Bounce":
        return Report(Kind.OTHER, "ses", key, message_ids=originals + ids, addresses=addresses, reason="delivered")
    bounce = note.get("bounce") or {}
    verdict, recipients, diagnostic = ses_verdict(bounce)
    if not recipients:
        return None
    kind_ = Kind.HARD if verdict.hard else Kind.SOFT
    return Report(kind_, "ses", key, recipients, verdict.code, diagnostic, originals + ids, addresses, verdict.reason)


def ses_verdict(bounce: dict[str, object]) -> tuple[Verdict, tuple[str, ...], str]:
    """(the verdict, the recipients, the diagnostic) of an SES bounce object, mailed or posted."""
    listed = bounce.get("bouncedRecipients")
    rcpts = [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []
    first = rcpts[0] if rcpts else {}
    diagnostic = str(first.get("diagnosticCode") or "")
    sub = str(bounce.get("bounceSubType") or "")
    text = f"{diagnostic} {'' if sub in ('General', 'Undetermined') else sub}"
    verdict = judge(str(first.get("status") or ""), text, bounce.get("bounceType") == "Permanent")
    if verdict.reason == "undefined" and bounce.get("bounceType") == "Permanent":
        verdict = Verdict("userunknown" if sub in ("General", "NoEmail") else "undefined", verdict.code, True)
    recipients = tuple(str(r.get("emailAddress", "")).lower() for r in rcpts if r.get("emailAddress"))
    return verdict, recipients, diagnostic[:1000]


def _dsn(
    msg: Message, explanation: str, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]
) -> Report | None:
    part = _part(msg, "message/delivery-status")
    if part is None:
        return None
    blocks = _fields(part)
    return _from_blocks(
        [
            (
                _value(b, "Final-Recipient") or _value(b, "Original-Recipient"),
                _value(b, "Action"),
                _value(b, "Status"),
                _value(b, "Diagnostic-Code"),
            )
            for b in blocks[1:] or blocks
        ],
        explanation,
        "dsn",
        key,
        addresses,
        originals,
    )


Row = tuple[str, str, str, str]  # recipient, action, status, diagnostic


def _from_blocks(
    rows: list[Row],
    explanation: str,
    detector: str,
    key: str,
    addresses: tuple[str, ...],
    originals: tuple[str, ...],
) -> Report | None:
    failed: list[tuple[str, Verdict, str]] = []
    succeeded = False
    for recipient, action, status, diagnostic in rows:
        action = action.lower()
        address = parseaddr(recipient)[1].lower() or recipient.lower()
        if action in ("delivered", "relayed", "expanded") or status.startswith("2"):
            succeeded = True
            continue
        if not address or "@" not in address or (not action and not status and not diagnostic):
            continue
        text = diagnostic or _near(explanation, address)
        verdict = judge(status, text, None if action not in ("delayed",) else False)
        if verdict.reason == "undefined" and not diagnostic:
            verdict = judge(status, explanation, verdict.permanent)
        if action == "failed" and not verdict.code:
            verdict = Verdict(verdict.reason, verdict.code, True)
        failed.append((address, verdict, diagnostic or text))
    if not failed:  # a success notice changes nothing; a report with no usable field is read as text
        return Report(Kind.OTHER, detector, key, message_ids=originals, addresses=addresses) if succeeded else None
    hard = [f for f in failed if f[1].hard]
    chosen = hard or failed
    verdict = chosen[0][1]
    return Report(
        Kind.HARD if hard else Kind.SOFT,
        detector,
        key,
        tuple(dict.fromkeys(f[0] for f in chosen)),
        verdict.code,
        " ".join(chosen[0][2].split())[:1000],
        originals,
        addresses,
        verdict.reason,
    )


def _near(text: str, address: str) -> str:
    """The explanation's lines about ``address``: from its first mention on, a few lines."""
    at = text.lower().find(address)
    if at < 0:
        return text
    return text[max(0, at - 300) : at + 1200]


def _is_returned_mail(msg: Message, explanation: str) -> bool:
    sender = " ".join(_headers(msg, "From"))
    if _FAILURE.search(explanation[:4000]):
        return True
    return_path = " ".join(_headers(msg, "Return-Path")).strip()
    return (
        bool(_DAEMON.search(sender))
        or (return_path in ("<>", "") and not sender)
        or bool(_headers(msg, "X-Failed-Recipients"))
        or bool(_BOUNCE_SUBJECT.search(" ".join(_headers(msg, "Subject"))))
    )


def _text_bounce(
    msg: Message, data: bytes, explanation: str, key: str, addresses: tuple[str, ...], originals: tuple[str, ...]
) -> Report | None:
    if not _is_returned_mail(msg, explanation):
        return None
    rows = _inline_dsn(explanation)
    if rows:
        found = _from_blocks(rows, explanation, "text", key, addresses, originals)
        if found is not None:
            return found
    ours = set(_addrs(_headers(msg, "From") + _headers(msg, "To") + _headers(msg, "Reply-To")))
    ours |= set(_addrs(_headers(msg, "Return-Path") + _headers(msg, "Sender")))
    recipients = _addrs(_headers(msg, "X-Failed-Recipients"))
    temporary, permanent = _flufl(msg if len(data) <= FLUFL_CAP else message_from_bytes(data[:FLUFL_CAP]))
    if not recipients:
        recipients = [a for a in permanent + temporary if a not in ours]
    if not recipients:
        recipients = _named(explanation, ours | set(_original_senders(msg)))
    if not recipients:
        recipients = [a for a in _original_recipients(msg) if a not in ours]
    if not recipients:
        return None
    diagnostic = _diagnostic(explanation, tuple(recipients))
    hint: bool | None = None
    if (temporary and not permanent) or _TEMPORARY.search(" ".join(_headers(msg, "Subject"))):
        hint = False
    verdict = judge(diagnostic, diagnostic, hint)
    if verdict.reason == "undefined":
        verdict = judge(verdict.code or diagnostic, explanation, verdict.permanent if verdict.code else hint)
    named_failure = permanent or temporary or _headers(msg, "X-Failed-Recipients") or diagnostic.strip()
    if verdict.reason == "undefined" and not verdict.code and not named_failure:
        return None  # mail from a daemon that names no failure: a notice, not a bounce
    if not verdict.code and hint is None:
        verdict = Verdict(verdict.reason, "", True)
    return Report(
        Kind.HARD if verdict.hard else Kind.SOFT,
        "text",
        key,
        tuple(recipients[:50]),
        verdict.code,
        diagnostic or " ".join(explanation.split())[:300],
        originals,
        addresses,
        verdict.reason,
    )


def _inline_dsn(text: str) -> list[Row]:
    """DSN fields written into the text of a report (WorkMail, some gateways): one row per recipient."""
    rows: list[list[str]] = []
    for name, value in _DSN_FIELD.findall(text):
        name = name.lower()
        if name in ("final-recipient", "original-recipient"):
            address = value.split(";", 1)[-1].strip()
            if rows and name == "original-recipient" and rows[-1][0] == "":
                rows[-1][0] = address
            elif name == "final-recipient" or not rows:
                rows.append([address, "", "", ""])
            continue
        if not rows:
            rows.append(["", "", "", ""])
        index = {"action": 1, "status": 2, "diagnostic-code": 3}[name]
        rows[-1][index] = value.split(";", 1)[-1].strip() if name == "diagnostic-code" else value.strip()
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[0]]


def _named(text: str, ours: set[str]) -> list[str]:
    """Addresses the explanation names as failing: all it names, but ours, daemons' and Message-IDs."""
    out: list[str] = []
    told = [a.lower() for a in re.findall(r"(?im)rcpt to:[ \t]{0,5}<?([^\s<>\"']{1,64}@[^\s<>\"',]{1,255})", text)]
    for found in _ADDRESS.finditer(text):
        address = found[0].lower().strip(".")
        before = text[max(0, found.start() - 16) : found.start()].lower()
        if any(w in before for w in ("message-id", "msgid", "id <", "from:", "from <", "sender")):
            continue
        if not _PLAIN.fullmatch(address) or (told and address not in told):
            continue
        if address in ours:
            continue
        if address not in out:
            out.append(address)
    return out


def _original_senders(msg: Message) -> list[str]:
    found: list[str] = []
    for part in msg.walk():
        returned = _returned_headers(part)
        if returned is not None:
            found += _addrs(_headers(returned, "From") + _headers(returned, "Sender"))
    tail = _returned_text(msg)
    found += [a.lower() for a in re.findall(r"(?im)^from:[^\n]{0,200}?([^\s<>\"']{1,64}@[^\s<>\"']{1,255})", tail)]
    found += [a.lower() for a in re.findall(r"envelope-from <?([^\s<>\"';]{1,64}@[^\s<>\"';]{1,255})", tail)]
    return found


def _original_recipients(msg: Message) -> list[str]:
    found: list[str] = []
    for part in msg.walk():
        returned = _returned_headers(part)
        if returned is not None:
            found += _addrs(_headers(returned, "To"))
    tail = _returned_text(msg)
    found += [a.lower() for a in re.findall(r"(?im)^to:[^\n]{0,200}?([^\s<>\"']{1,64}@[^\s<>\"',]{1,255})", tail)]
    return [a for a in dict.fromkeys(found) if _PLAIN.fullmatch(a)]


def _auto_reply(msg: Message) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        auto.startswith("auto-replied")
        or any(h in msg for h in ("X-Autoreply", "X-Autorespond", "X-Autoresponse"))
        or precedence == "auto_reply"
        or bool(_AUTO_SUBJECT.match(str(msg.get("Subject", ""))))
    )


def _flufl(msg: Message) -> tuple[list[str], list[str]]:
    """(temporary, permanent) failing addresses by GNU Mailman's detectors, those that are addresses."""
    from flufl.bounce import all_failures

    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # its detectors are heuristics over hostile text: a crash is "found nothing"
        return [], []

    def clean(found: frozenset[bytes] | set[bytes]) -> list[str]:
        out = (a.decode("utf-8", "replace").strip("<>").lower() for a in found)
        return sorted(a for a in out if _PLAIN.fullmatch(a))

    return clean(temporary), clean(permanent)


def _diagnostic(body: str, recipients: tuple[str, ...]) -> str:
    """The server's line about the first recipient, when the text gives one."""
    lines = [" ".join(line.split()) for line in body.splitlines()]
    lines = [line for line in lines if line]
    near = [line for line in lines if STATUS.search(line) and re.search(r"\b[45]\d\d\b", line)]
    near = near or [line for line in lines if STATUS.search(line) or _REPLY.search(line)]
    about = [line for line in near if any(r in line.lower() for r in recipients)] or near
    if about:
        return about[0][:1000]
    for i, line in enumerate(lines):
        if any(r in line.lower() for r in recipients):
            return " ".join(lines[i : i + 3])[:1000]
    return ""


__all__ = ["Kind", "Report", "parse", "reasons"]
