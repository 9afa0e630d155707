"""One person's data as a document: the record and its consent history (what `subscribers show` prints)."""

from __future__ import annotations

from typing import Any

from .model import SubscriberStatus
from .store import SubscriberStore
from .validation import InvalidAddress, normalize_email


def person(store: SubscriberStore, email: str) -> dict[str, Any] | None:
    """Everything stored about the address, or None when it is not on the list."""
    try:
        address = normalize_email(email)
    except InvalidAddress:
        address = email.strip().lower()
    sub = store.by_email(address)
    if sub is None:
        return None
    return {
        "email": sub.email,
        "name": sub.name,
        "status": "paused" if sub.paused and sub.status == SubscriberStatus.ACTIVE else sub.status,
        "topics": sorted(sub.topics),
        "jurisdictions": sorted(sub.jurisdictions),
        "paused": sub.paused,
        "created_at": sub.created_at.isoformat() if sub.created_at else None,
        "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
        "consent_ip": sub.consent_ip,
        "history": [e.as_dict() for e in store.history(sub.id)],
    }


def person_text(doc: dict[str, Any]) -> str:
    """The same document for a terminal: the record, then one line per event."""
    shown = {
        **doc,
        "topics": ", ".join(doc["topics"]) or "all topics",
        "jurisdictions": ", ".join(doc.get("jurisdictions", ())) or "all jurisdictions",
    }
    keys = ("email", "name", "status", "topics", "jurisdictions", "created_at", "confirmed_at", "consent_ip")
    lines = [f"{k}: {shown[k] if shown[k] not in (None, '') else '-'}" for k in keys]
    lines.append("history:")
    for e in doc["history"]:
        extra = "  ".join(
            x
            for x in (
                e["source"] and f"via {e['source']}",
                e["ip"] and f"ip {e['ip']}",
                e["user_agent"] and f"agent {e['user_agent']!r}",
                e["detail"],
            )
            if x
        )
        lines.append(f"  {e['at']}  {e['kind']:<15} {extra}".rstrip())
    return "\n".join(lines)
