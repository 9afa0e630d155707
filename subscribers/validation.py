"""Address and name checks (email-validator, no DNS look-ups)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# A plain ASCII local part (RFC 5322 dot-atom): checked here so a large import validates each domain once.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class InvalidAddress(ValueError):
    pass


class InvalidName(ValueError):
    """A name a sign-up form may not store: too long, a link, or control characters."""


NAME_LIMIT = 100
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV Injection": a cell starting so is a formula
_LINKLIKE = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|www\.|\b[a-z0-9-]+\.[a-z]{2,}\b")  # a URL or a domain


def normalize_email(raw: str) -> str:
    """The address in the one form we store: validated, domain normalized, compared case-insensitively."""
    value = (raw or "").strip()
    if not value:
        raise InvalidAddress("the address is empty")
    if any(ch in value for ch in "\r\n\t\0"):
        raise InvalidAddress("the address contains control characters")
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and len(value) <= 254 and _DOT_ATOM.fullmatch(local):
        return f"{local}@{_domain(domain)}".lower()
    return _full(value)


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    """The normalized domain, or InvalidAddress; cached, since a list repeats a few domains many times."""
    return _full(f"a@{domain}").rpartition("@")[2]


def _full(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email  # slow to import: only when needed

    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return result.normalized.lower()


def clean_name(raw: str | None, limit: int = 200) -> str:
    """A display name safe for headers and HTML: printable characters only, one line, bounded length."""
    text = raw or ""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:limit]


def _topic_key(name: str) -> str:
    """A topic named as typed ("Trademark", "trade secret") in the form its slug is compared in: lower case,
    words joined by '-', each word without a plural 's' ("trademarks" and "trademark" meet)."""
    words = re.split(r"[\s_-]+", name.strip().lower())
    return "-".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words if w)


def match_topics(given: Iterable[str], known: Iterable[str]) -> tuple[list[str], list[str]]:
    """(the known slugs that ``given`` names, singular or plural, in the order given; the names that match
    none). "trademark" and "Trademarks" both name the slug "trademarks"."""
    by_key = {_topic_key(slug): slug for slug in known}
    found: list[str] = []
    unknown: list[str] = []
    for name in given:
        slug = by_key.get(_topic_key(name))
        if slug is None:
            unknown.append(name)
        elif slug not in found:
            found.append(slug)
    return found, unknown


def parse_topics(raw: str | None) -> list[str]:
    return [t.strip().lower() for t in (raw or "").replace(";", ",").replace("|", ",").split(",") if t.strip()]


def looks_like_formula(text: str) -> bool:
    """True when ``text``, or any part of it after a semicolon (the separator of many spreadsheets), starts
    as a spreadsheet formula does."""
    return any(part.lstrip(" ").startswith(FORMULA_START) for part in text.split(";"))


def form_name(raw: str | None) -> str:
    """A name typed into a sign-up form (or imported from a file), which the confirmation mail's ``To:``
    carries: at most NAME_LIMIT characters, no control characters, nothing that looks like a link or a
    domain, nothing a spreadsheet would run as a formula; InvalidName otherwise."""
    text = raw or ""
    if any(not ch.isprintable() for ch in text):
        raise InvalidName("the name may not contain control characters or line breaks")
    text = " ".join(text.split())
    if len(text) > NAME_LIMIT:
        raise InvalidName(f"the name is longer than {NAME_LIMIT} characters")
    if _LINKLIKE.search(text) or "@" in text:
        raise InvalidName("the name may not contain a web address or an email address")
    if looks_like_formula(text):
        raise InvalidName("the name may not start (or go on after a ';') with =, +, - or @")
    return text
