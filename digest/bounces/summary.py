"""What came back, as an editor and an operator read it: bounces per reason group, and the alerts about
refusals on our side. One source for `digest status`, `digest report`, the admin pages and /metrics.

    address gone          the address or its domain no longer exists (hard)
    mailbox full          the reader's mailbox is full
    mailbox unreachable   expired, network or system failures at the reader's side
    sender blocked        our IP, domain, reputation, authentication or rate was refused
    content refused       our message was refused: spam, virus, size, content, policy
    complaint             the reader reported the message as spam
    other                 soft bounces whose reason is not known
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..db.feedback import IssueFeedback, Refusal
from .reasons import Group, group

ORDER = tuple(Group)


def groups(fb: IssueFeedback) -> dict[str, int]:
    """Deliveries per reason group (every group, in order, zeros included)."""
    out = dict.fromkeys((g.value for g in ORDER), 0)
    for feedback, reason, n in fb.by_reason:
        if feedback == "complaint":
            found = Group.COMPLAINT
        elif not reason or reason == "undefined":
            found = Group.GONE if feedback == "hard" else Group.OTHER
        else:
            found = group(reason)
        out[found.value] += n
    return out


def alert_line(r: Refusal) -> str:
    """'gmail.com refused 412 messages as spamdetected (5.7.1), last 2026-12-03 10:00 UTC: 550 5.7.1 …'"""
    text = " ".join(r.diagnostic.split())[:300]
    code = f" ({r.code})" if r.code else ""
    return (
        f"{r.provider or 'a provider'} refused {r.count} message{'s' if r.count != 1 else ''} as "
        f"{r.reason or 'refused'}{code}, last {r.last_at:%Y-%m-%d %H:%M} UTC: {text}"
    )


ALERT_HINT = (
    "these refusals are about our sending (IP, domain, authentication, content, size or rate), not about "
    "the readers: no subscriber was changed. Check the sending IP on blocklists, SPF/DKIM/DMARC and the content"
)


def refusal_lines(refusals: Iterable[Refusal]) -> dict[str, Any]:
    """The admin pages' alert: ``refusals`` (one line each) and ``alert_hint``."""
    return {"refusals": [alert_line(r) for r in refusals], "alert_hint": ALERT_HINT}
