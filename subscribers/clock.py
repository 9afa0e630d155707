"""The program's one clock: aware UTC datetimes, for the audience and the newsletter alike."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware, in UTC: what every stored timestamp and every lease compares against."""
    return datetime.now(UTC)
