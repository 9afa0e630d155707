"""The small languages of [schedule]: weekly times ("mon 07:00"), durations ("1h", "2d") and time zones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = {d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_WEEKLY = re.compile(r"([a-z]+)\s+(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Weekly:
    """A day of the week by name and a local wall-clock time."""

    day: str
    hour: int
    minute: int

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}:{self.minute:02d}"


def parse_weekly(text: str) -> Weekly:
    """'mon 07:00' (or 'Monday 7:00') → Weekly; ValueError saying what is expected otherwise."""
    m = _WEEKLY.fullmatch(text.strip().lower())
    if not m:
        raise ValueError(f'expected a day name and a time like "mon 07:00", got {text!r}')
    name, hour, minute = m.group(1), int(m.group(2)), int(m.group(3))
    if name in _FULL:
        name = DAYS[_FULL[name]]
    if name not in DAYS:
        raise ValueError(f"unknown day {m.group(1)!r}; use one of {', '.join(DAYS)} (names, not numbers)")
    if hour > 23 or minute > 59:
        raise ValueError(f"no such time of day {hour:02d}:{minute:02d}; use 00:00 to 23:59")
    return Weekly(name, hour, minute)


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '1h', '2d', '1w' or combinations such as '1h30m' → timedelta (positive)."""
    s = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(s)
    if not s or "".join(n + u for n, u in parts) != s:
        raise ValueError(f'expected a duration like "1h", "30m", "2d" or "1h30m", got {text!r}')
    total = timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    if total <= timedelta(0):
        raise ValueError(f"must be longer than zero, got {text!r}")
    return total


def format_duration(span: timedelta) -> str:
    """A duration as it is written in digest.toml: 3600 s → '1h', 5400 s → '1h30m'."""
    seconds, out = int(span.total_seconds()), []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'unknown time zone {name!r}; use an IANA name such as "Europe/Berlin" or "UTC"') from None
