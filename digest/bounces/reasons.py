"""Why a message came back: a reason class from the enhanced status code and what the server said. Pure.

The reason names follow Sisimai's public ones (userunknown, hostunknown, mailboxfull, blocked, …), so an
operator who knows them reads ours the same way. Each reason belongs to one side:

    address   the address or its domain is gone (userunknown, hostunknown, hasmoved, notaccept): a
              permanent failure of these is a hard bounce, the only one that drops a reader at once
    mailbox   a passing state of the reader's mailbox or server (mailboxfull, expired, networkerror,
              systemerror, systemfull, suspend): soft, and the only soft bounces the policy counts
    sender    about us: our IP, domain, reputation, authentication, content, size or rate (blocked,
              spamdetected, policyviolation, …): soft, changes no reader, raises an operator alert
    other     filtered, undefined and the like: recorded, changes nothing

The text decides before the code: "550 5.1.1 … mailbox full" is a full mailbox, and a 5.0.0 with
"message too large" is about the size. The code decides when the text says nothing known. Matching is
a handful of precompiled regular expressions over at most ``TEXT_CAP`` characters, lower case, with
whitespace folded: linear in the text, whatever the text is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

TEXT_CAP = 8000
STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d])")
_REPLY = re.compile(r"(?<![\d.])([245])\d\d(?![\d.])")


class Side(StrEnum):
    ADDRESS = "address"
    MAILBOX = "mailbox"
    SENDER = "sender"
    OTHER = "other"


class Group(StrEnum):
    """What a report per issue shows: the reasons grouped as an editor reads them."""

    GONE = "address gone"
    FULL = "mailbox full"
    UNREACHABLE = "mailbox unreachable"
    BLOCKED = "sender blocked"
    CONTENT = "content refused"
    COMPLAINT = "complaint"
    OTHER = "other"


# The reasons by what they say, each listed once: SIDES and GROUPS are both made from these.
_GONE = ("userunknown", "hostunknown", "hasmoved", "notaccept")  # the address or its domain is no more
_UNREACHABLE = ("expired", "networkerror", "systemerror", "systemfull", "suspend")  # the mailbox, for now
_BLOCKED = (  # our IP, domain, authentication or rate
    *("blocked", "badreputation", "requireptr", "rejected", "authfailure", "securityerror"),
    *("toomanyconn", "speeding"),
)
_CONTENT = (  # the message itself
    *("spamdetected", "virusdetected", "contenterror", "policyviolation", "notcompliantrfc"),
    *("mesgtoobig", "exceedlimit"),
)

SIDES: dict[str, Side] = {
    **dict.fromkeys(_GONE, Side.ADDRESS),
    **dict.fromkeys(("mailboxfull", *_UNREACHABLE), Side.MAILBOX),
    **dict.fromkeys((*_BLOCKED, *_CONTENT), Side.SENDER),
}
GROUPS: dict[str, Group] = {
    **dict.fromkeys(_GONE, Group.GONE),
    "mailboxfull": Group.FULL,
    **dict.fromkeys(_UNREACHABLE, Group.UNREACHABLE),
    **dict.fromkeys(_BLOCKED, Group.BLOCKED),
    **dict.fromkeys((*_CONTENT, "filtered"), Group.CONTENT),
    "feedback": Group.COMPLAINT,
}


def side(reason: str) -> Side:
    return SIDES.get(reason, Side.OTHER)


def group(reason: str) -> Group:
    return GROUPS.get(reason, Group.OTHER)


def _any(*phrases: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in phrases))


# In the order they are tried: what is about the message or the sender first (its words are the most
# specific), then the address, then passing states. Each phrase is lower case, whitespace folded.
_TEXT: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "mesgtoobig",
        _any(
            r"message (is )?too (large|big)",
            r"message size (exceeds|too)",
            r"exceeds? (the )?(maximum|max|fixed maximum) (allowed )?(message )?size",
            r"size (limit|exceeded)",
            r"message length exceeds",
            r"too large for this recipient",
            r"recipsizelimit",
            r"mail(message)? (is )?too (large|big)",
            r"message file too big",
        ),
    ),
    (
        "mailboxfull",
        _any(
            r"mail ?box (is )?(full|over ?quota|exceeds?|has exceeded)",
            r"over ?quota",
            r"quota (exceeded|full|violation)",
            r"exceeded (the|his|her|their)? ?(storage|quota|mailbox)",
            r"(disk|mailbox|storage|inbox|mail folder|mailfolder|account) (space )?(is )?(full|over)",
            r"insufficient (disk |user )?(space|storage)",
            r"not enough (disk )?space",
            r"too many messages (in|on)",
            r"(has|have) too many (mails|messages)",
            r"zuviele mails",
            r"full mailbox",
            r"out of (disk )?space",
            r"user.{0,20}(is )?over.{0,15}(quota|limit)",
            r"mailbox size limit",
            r"overquota",
        ),
    ),
    (
        "authfailure",
        _any(
            r"\b(spf|dkim|dmarc)\b.{0,40}(fail|check|reject|policy|not pass|invalid|alignment|record)",
            r"(fail|reject)\w*.{0,40}\b(spf|dkim|dmarc)\b",
            r"sender policy framework",
            r"unauthenticated (e-?mail|mail|sender)",
            r"5\.7\.2[3567]\b",
        ),
    ),
    (
        "rejected",
        _any(
            r"sender address (rejected|refused|has been blacklisted)",
            r"sender (was |is )?(rejected|refused|not allowed|not pre-?approved|is spammer|is in my black ?list)",
            r"sender verify failed",
            r"invalid sender",
            r"purported responsible address",
            r"domain of sender address",
            r"sender domain (is |does )?(empty|not|must|unknown|invalid)",
            r"unroutable sender",
            r"null sender",
            r"empty envelope sender",
            r"bogus mail from",
            r"mail from not owned",
            r"your (e-?mail )?address has been blacklisted",
            r"returned mail not accepted",
            r"not allowed to post",
            r"sender email address rejected",
            r"\b[45]\.1\.[78]\b",
        ),
    ),
    (
        "requireptr",
        _any(
            r"reverse (dns|lookup|hostname)",
            r"\bptr\b",
            r"\brdns\b",
            r"mismatches client ip",
            r"cannot find your hostname",
            r"(not|unable to|cannot) resolve your (hostname|ip|address)",
            r"ip name lookup failed",
            r"no (dns )?(reverse|ptr) record",
        ),
    ),
    (
        "toomanyconn",
        _any(
            r"too many (connections|concurrent|sessions|simultaneous)",
            r"(connection|ip) frequency limited",
            r"frequency limit",
            r"connection (rate|limit)",
            r"rate ?limit",
            r"throttl",
            r"too many (messages|mails|emails|recipients) (from|sent|in)",
            r"sending (rate|limit)",
            r"unexpected volume",
            r"unusual (rate|volume)",
            r"exceeded.{0,20}(rate|sending limit|message limit)",
        ),
    ),
    (
        "badreputation",
        _any(r"reputation", r"poor (ip|sender) (score|standing)"),
    ),
    (
        "blocked",
        _any(
            r"black ?list",
            r"block ?list",
            r"blocked (using|by|ip|-)",
            r"\brbl\b",
            r"dnsbl",
            r"spamhaus",
            r"spamcop",
            r"barracudacentral",
            r"\bsorbs\b",
            r"\bip\b.{0,50}(blocked|rejected|refused|banned|listed|not allowed|blacklist)",
            r"(block|reject|refus|ban|deni)\w*.{0,30}\b(your|sending|client|sender'?s?) ip\b",
            r"client host.{0,30}(rejected|blocked|refused)",
            r"host network not allowed",
            r"dynamic ip",
            r"(?<!recipient address rejected: )access denied",
            r"not allowed to (send|connect)",
            r"helo command rejected",
            r"go away",
            r"(?<!not )listed (at|in|on) ",
            r"not currently accepting mail from your",
            r"blocked\b",
        ),
    ),
    (
        "virusdetected",
        _any(r"\bvirus", r"malware", r"infected", r"trojan"),
    ),
    (
        "spamdetected",
        _any(
            r"\bspam\b",
            r"junk ?mail",
            r"unsolicited",
            r"bulk (e-?mail|mail)",
            r"scored? .{0,20}points",
            r"classified as (spam|junk|bulk)",
            r"\bspam[a-z]*\b",
            r"mail rejete",
        ),
    ),
    (
        "contenterror",
        _any(
            r"content rejected",
            r"message content",
            r"8-?bit data",
            r"improper use of",
            r"(invalid|illegal|malformed|bad) (mime|header|message header)",
            r"attachment.{0,30}(not allowed|blocked|rejected|prohibited)",
            r"(banned|prohibited|blocked) (file|attachment|content)",
            r"executable",
        ),
    ),
    (
        "notcompliantrfc",
        _any(r"(not|non)[- ](rfc|standards?)[- ]?compliant", r"(violat\w*|compliant with|conform\w* to) rfc ?\d+"),
    ),
    (
        "securityerror",
        _any(
            r"\b(start)?tls\b.{0,30}(required|must|fail)",
            r"must issue a starttls",
            r"encryption required",
            r"certificate",
            r"authentication required",
            r"secure connection required",
        ),
    ),
    (
        "policyviolation",
        _any(
            r"polic(y|ies)",
            r"not (permitted|allowed) by",
            r"prohibited",
            r"violat",
            r"host network not allowed",
        ),
    ),
    (
        "suspend",
        _any(
            r"(account|mailbox|user|address) (has been |is )?(disabled|suspended|deactivated|frozen|locked)",
            r"suspended (account|mailbox|user)",
        ),
    ),
    (
        "hostunknown",
        _any(
            r"host (or domain name )?not found",
            r"host ?unknown",
            r"unknown (host|domain)",
            r"domain (name )?(not found|does ?n[o']?t exist|unknown|is invalid)",
            r"no such domain",
            r"nxdomain",
            r"name or service not known",
            r"unroutable (mail )?domain",
            r"unrouteable mail domain",
            r"no (mx|mail exchanger) (record|host)",
            r"couldn'?t find any host",
            r"no valid (host|mx)",
            r"(bad|invalid) destination (host|domain)",
            r"could not resolve (the )?(domain|host)",
            r"domain (is )?not reachable",
            r"hostname lookup",
            r"dns.{0,20}(domain|host).{0,20}(not|no) (exist|found)",
            r"\b[45]\.1\.2\b",
        ),
    ),
    (
        "hasmoved",
        _any(r"has moved", r"address (has )?changed", r"no longer (at|with) ", r"forwarding address"),
    ),
    (
        "notaccept",
        _any(
            r"(does|do) not accept (any )?(e-?mail|mail)",
            r"not accepting (any )?mail",
            r"null ?mx",
            r"accepts no mail",
            r"no smtp service",
        ),
    ),
    (
        "userunknown",
        _any(
            r"user ?unknown",
            r"unknown (user|recipient|mailbox|address|local[- ]?part|e-?mail address|account)",
            r"no such (user|mailbox|address|recipient|person|account|local user)",
            r"(user|recipient|mailbox|address|account|addressee|person)( \S+)? (does ?n[o']?t|doesn'?t|did not) exist",
            r"does ?n[o']t exist",
            r"not exist",
            r"(user|recipient|mailbox|address|account|addressee)( \S+)? (was )?(not found|unknown|not known|invalid|"
            r"not valid|not active|inactive|unavailable|not listed)",
            r"invalid (recipient|mailbox|address|user|e-?mail)",
            r"not a valid (recipient|mailbox|user|address)",
            r"recipient ?not ?found",
            r"recipientnotfound",
            r"wasn.?t found",
            r"could not be found",
            r"not a known user",
            r"no mailbox",
            r"mailbox (is )?unavailable",
            r"unrouteable address",
            r"no (such )?account",
            r"account (has been |was )?(deleted|closed|removed|terminated|expired|discontinued)",
            r"(is )?no longer (valid|active|available|in use)",
            r"bad (recipient|destination mailbox|address)",
            r"recipient (address )?rejected",
            r"address (not present|rejected|unknown|invalid|error)",
            r"utilisateur inconnu",
            r"unbekannt",
            r"nicht gefunden",
            r"no existe",
            r"badrcptto",
            r"validrcptto",
            r"isn'?t in my list of allowed rcpthosts",
            r"not our customer",
            r"there is no one at this address",
            r"not listed in",
            r"does ?n[o']?t have an? .{0,60} account",
            r"not an active address",
            r"no valid recipients?",
            r"invalid .{0,30}userid",
            r"\b5\.1\.(1|10)\b",
        ),
    ),
    (
        "expired",
        _any(
            r"expired",
            r"retry (time|timeout|period)( \w+)? (exceeded|reached|expired)",
            r"too long in (the )?queue",
            r"in the queue too long",
            r"could not be delivered (within|for|in) \d",
            r"delivery time ?out",
            r"(message|delivery) timed? ?out",
            r"did not accept our requests to connect",
            r"could not deliver.{0,30}(for|within|in) (the last )?\d+ (days|hours)",
            r"maximum (time|retries|delivery attempts)",
            r"retry limit",
            r"(have|has) been (trying|unable) .{0,30}for \d+ (days|hours)",
            r"delivery attempts (exhausted|exceeded)",
            r"gave up|giving up|given up",
        ),
    ),
    (
        "networkerror",
        _any(
            r"connection (refused|timed out|reset|lost|dropped|closed)",
            r"(could not|unable to|couldn'?t|wasn'?t able to|failed to) (connect|establish|reach)",
            r"network (is )?unreachable",
            r"no route to host",
            r"dns (query )?(fail|error|timeout)",
            r"temporary (dns|lookup|name resolution) (failure|error)",
            r"timed? ?out",
            r"lost connection",
            r"routing loop|mail loop|loops back|too many hops|hop count",
            r"\b[45]\.4\.[0-35-6]\b",
        ),
    ),
    (
        "systemfull",
        _any(r"system (storage|disk) (is )?full", r"insufficient system storage", r"\b[45]\.3\.1\b"),
    ),
    (
        "systemerror",
        _any(
            r"system error",
            r"(server|internal|local|remote) error",
            r"temporar(il)?y (unavailable|failure|error|problem|not available|rejected|deferred)",
            r"service (is )?(currently )?(unavailable|not available)",
            r"try (again )?later",
            r"resources? temporarily",
            r"unable to contact",
            r"(mailbox|server) (is )?(temporarily )?(locked|busy|too busy)",
            r"i/o error",
            r"out of memory",
            r"\b[45]\.3\.\d\b",
        ),
    ),
    (
        "filtered",
        _any(
            r"filtered",
            r"(domain|recipient|content|mail) filter",
            r"recipient'?s? (preferences|filter|settings)",
            r"refused by (the )?recipient",
        ),
    ),
)

# The code's own meaning, for a text that says nothing known: (class digit dropped) subject.detail
_CODES: dict[str, str] = {
    "1.1": "userunknown",
    "1.0": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.4": "userunknown",
    "1.5": "userunknown",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.10": "userunknown",
    "2.0": "filtered",
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "mesgtoobig",
    "2.4": "systemerror",
    "3.0": "systemerror",
    "3.1": "systemfull",
    "3.2": "systemerror",
    "3.3": "contenterror",
    "3.4": "mesgtoobig",
    "3.5": "systemerror",
    "4.0": "networkerror",
    "4.1": "networkerror",
    "4.2": "networkerror",
    "4.3": "networkerror",
    "4.4": "hostunknown",
    "4.5": "networkerror",
    "4.6": "networkerror",
    "4.7": "expired",
    "5.3": "exceedlimit",
    "5.4": "syntaxerror",
    "6.0": "contenterror",
    "6.1": "contenterror",
    "6.2": "contenterror",
    "6.3": "contenterror",
    "6.4": "contenterror",
    "6.5": "contenterror",
    "7.0": "securityerror",
    "7.1": "policyviolation",
    "7.2": "policyviolation",
    "7.3": "securityerror",
    "7.4": "securityerror",
    "7.5": "securityerror",
    "7.6": "securityerror",
    "7.7": "securityerror",
    "7.8": "authfailure",
    "7.9": "securityerror",
    "7.23": "authfailure",
    "7.24": "authfailure",
    "7.25": "requireptr",
    "7.26": "authfailure",
    "7.27": "notaccept",
    "7.28": "speeding",
    "7.606": "blocked",
    "7.511": "blocked",
    "7.708": "badreputation",
}


@dataclass(frozen=True)
class Verdict:
    """A failure's reason, its code, and whether it is for good."""

    reason: str
    code: str  # the enhanced status code, or the reply code, or ""
    permanent: bool

    @property
    def side(self) -> Side:
        return side(self.reason)

    @property
    def hard(self) -> bool:
        """Drop the address now: gone for good. Everything else is soft."""
        return self.permanent and self.side == Side.ADDRESS


def fold(text: str) -> str:
    return " ".join(text[:TEXT_CAP].lower().split())


def reason_of_text(text: str) -> str:
    """The first reason whose words the text holds, or ""."""
    folded = fold(text)
    if not folded:
        return ""
    for reason, pattern in _TEXT:
        if pattern.search(folded):
            return reason
    return ""


def reason_of_code(code: str) -> str:
    found = STATUS.search(code)
    if found is None:
        return ""
    return _CODES.get(f"{found[2]}.{found[3]}", "") or _CODES.get(f"{found[2]}.0", "")


def status_in(text: str) -> str:
    """The first enhanced status code in ``text`` (5.1.1), else ""."""
    found = STATUS.search(text[:TEXT_CAP])
    return found[0] if found else ""


def judge(status: str, text: str, permanent: bool | None = None) -> Verdict:
    """The reason of one failure from its ``status`` (5.1.1, may be "") and the server's ``text``.

    ``permanent`` is what the report says outright (a DSN's Action, a detector's verdict); a 4.x.x
    status or 4xx reply makes it temporary whatever it says, a 5.x.x one permanent when it says nothing.
    """
    code = status_in(status) or status_in(text)
    reply = _REPLY.search(fold(text)) if not code else None
    klass = code[:1] if code else (reply[1] if reply else "")
    if klass == "4":
        permanent = False
    elif permanent is None:
        permanent = klass == "5"
    reason = reason_of_text(text) or reason_of_code(code) or "undefined"
    if code.startswith("2"):
        reason = "undefined"
    return Verdict(reason, code or (reply[0] if reply else ""), permanent)
