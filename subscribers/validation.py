"""Address and name checks (email-validator, no DNS look-ups)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    pass


def normalize_email(raw: str) -> str:
    """The address in the one form we store: validated, domain normalized, compared case-insensitively."""
    value = (raw or "").strip()
    if not value:
        raise InvalidAddress("the address is empty")
    if any(ch in value for ch in "\r\n\t\0"):
        raise InvalidAddress("the address contains control characters")
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return result.normalized.lower()


def clean_name(raw: str | None, limit: int = 200) -> str:
    """A display name safe for headers and HTML: printable characters only, one line, bounded length."""
    text = "".join(ch if ch.isprintable() else " " for ch in (raw or ""))
    return " ".join(text.split())[:limit]


def parse_topics(raw: str | None) -> list[str]:
    return [t.strip().lower() for t in (raw or "").replace(";", ",").replace("|", ",").split(",") if t.strip()]
