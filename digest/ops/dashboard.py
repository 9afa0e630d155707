"""The editor's dashboard figures, per ISO week (pure: rows in, counts out); digest/charts.py draws them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


def week_of(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def last_weeks(until: datetime, n: int) -> list[tuple[str, datetime]]:
    """The ``n`` ISO weeks up to the one of ``until``, oldest first: (label, the end of the week)."""
    monday = (until - timedelta(days=until.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for i in range(n - 1, -1, -1):
        start = monday - timedelta(weeks=i)
        out.append((week_of(start), start + timedelta(weeks=1)))
    return out


@dataclass(frozen=True)
class AudienceWeek:
    week: str
    active: int  # subscribed and confirmed at the end of the week
    joined: int  # confirmed during the week
    left: int  # unsubscribed during the week
    bounced: int  # marked bounced during the week


def audience_weeks(rows: Iterable[Any], weeks: Sequence[tuple[str, datetime]]) -> list[AudienceWeek]:
    """Per week: rows are (created_at, confirmed_at, unsubscribed_at, bounced_at, status)."""
    people = [(r[1] or (r[0] if r[4] != "pending" else None), r[2], r[3]) for r in rows]
    out = []
    for label, end in weeks:
        start = end - timedelta(weeks=1)

        def within(when: datetime | None, start: datetime = start, end: datetime = end) -> bool:
            return when is not None and start <= when < end

        active = sum(
            1
            for joined, left, bounced in people
            if joined is not None
            and joined < end
            and not (left is not None and left < end)
            and not (bounced is not None and bounced < end)
        )
        out.append(
            AudienceWeek(
                label,
                active,
                sum(within(p[0]) for p in people),
                sum(within(p[1]) for p in people),
                sum(within(p[2]) for p in people),
            )
        )
    return out


def articles_weeks(rows: Iterable[tuple[str, datetime]], weeks: Sequence[tuple[str, datetime]]) -> dict[str, list[int]]:
    """Per source, the articles first seen in each week."""
    labels = [w for w, _ in weeks]
    counts: Counter[tuple[str, str]] = Counter((source, week_of(when)) for source, when in rows)
    sources = sorted({source for source, _ in counts})
    return {source: [counts[(source, w)] for w in labels] for source in sources}
