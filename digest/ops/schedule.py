"""The weekly schedule: day-name triggers in a time zone, the grace for a missed send, the send policy.

Triggers are built from day names (``CronTrigger(day_of_week="mon", ...)``), never from crontab
numbers, whose weekdays APScheduler counts from Monday = 0; a time that occurs twice when clocks go
back fires once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config import BouncesConfig, ScheduleConfig
from ..timespec import Weekly, format_duration, parse_duration, parse_timezone, parse_weekly

# -- the schedule ---------------------------------------------------------------------------


class WeeklyTrigger(CronTrigger):  # type: ignore[misc]
    """A weekly cron trigger that fires once on the night clocks go back.

    APScheduler 3 fires a time that occurs twice (02:30 when summer time ends) at both instants;
    this skips the second one.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        nxt: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while nxt is not None and _second_occurrence(nxt):
            nxt = super().get_next_fire_time(None, nxt + timedelta(hours=1, seconds=1))  # past the repeat
        return nxt


def _second_occurrence(when: datetime) -> bool:
    first = when.replace(tzinfo=None).replace(tzinfo=when.tzinfo, fold=0)
    return first.utcoffset() != when.utcoffset() and first.astimezone(UTC) < when.astimezone(UTC)


def weekly_trigger(spec: Weekly, tz: ZoneInfo) -> WeeklyTrigger:
    return WeeklyTrigger(day_of_week=spec.day, hour=spec.hour, minute=spec.minute, timezone=tz)


@dataclass(frozen=True)
class Schedule:
    """[schedule], parsed (config.load_settings has already validated it)."""

    tz: ZoneInfo
    collect_every: timedelta
    send: Weekly
    build: Weekly | None = None
    grace: timedelta = timedelta(days=2)
    require_approval: bool = False
    editors: tuple[str, ...] = ()
    min_articles: int = 1
    retry_every: timedelta = timedelta(hours=1)
    bounces_every: timedelta | None = None  # reading the bounce mailbox; None: no [bounces] mailbox

    @classmethod
    def from_config(cls, cfg: ScheduleConfig, bounces: BouncesConfig | None = None) -> Schedule:
        return cls(
            tz=parse_timezone(cfg.timezone),
            collect_every=parse_duration(cfg.collect_every),
            send=parse_weekly(cfg.send),
            build=parse_weekly(cfg.build) if cfg.build else None,
            grace=parse_duration(cfg.grace),
            require_approval=cfg.require_approval,
            editors=cfg.editors,
            min_articles=cfg.min_articles,
            bounces_every=parse_duration(bounces.every) if bounces is not None and bounces.mailbox else None,
        )

    def triggers(self) -> dict[str, BaseTrigger | None]:
        """Job id → trigger; None means the job must not exist."""
        return {
            "collect": IntervalTrigger(seconds=int(self.collect_every.total_seconds()), timezone=self.tz),
            "build": weekly_trigger(self.build, self.tz) if self.build else None,
            "send": weekly_trigger(self.send, self.tz),
            "bounces": (
                IntervalTrigger(seconds=int(self.bounces_every.total_seconds()), timezone=self.tz)
                if self.bounces_every
                else None
            ),
        }

    def describe(self, job_id: str) -> str:
        if job_id == "collect":
            return f"every {format_duration(self.collect_every)}"
        if job_id == "bounces":
            return f"every {format_duration(self.bounces_every)}" if self.bounces_every else "-"
        spec = self.build if job_id == "build" else self.send
        return f"{spec} {self.tz.key}" if spec else "-"


def last_fire(trigger: BaseTrigger, now: datetime, lookback: timedelta = timedelta(days=8)) -> datetime | None:
    """The latest fire time of ``trigger`` at or before ``now`` (within ``lookback``)."""
    last = None
    t = trigger.get_next_fire_time(None, now - lookback)
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


def same_trigger(a: BaseTrigger, b: BaseTrigger) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, IntervalTrigger) and isinstance(b, IntervalTrigger):
        return bool(a.interval == b.interval)
    return repr(a) == repr(b)


def last_send_time(schedule: Schedule, now: datetime) -> datetime | None:
    """When the weekly send last fired at or before ``now``."""
    return last_fire(weekly_trigger(schedule.send, schedule.tz), now)
