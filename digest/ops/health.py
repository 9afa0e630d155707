"""Is the program healthy? The readiness checks behind `GET /readyz`, shared by the web side and the daemon.

database   the database answers a query
schema     its schema is at the revision this program needs (digest/db/migrate.py)
collect    the last collect ran within STALE_COLLECTS collect intervals ([schedule] collect_every)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from subscribers.clock import now as utc_now

from ..db.health import Health
from ..db.migrate import state
from ..timespec import parse_duration

STALE_COLLECTS = 3  # a collect may be missed twice (a slow feed, a restart) before the daemon looks stuck


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def collect_limit(collect_every: str) -> timedelta:
    return STALE_COLLECTS * parse_duration(collect_every)


def readiness(health: Health, collect_every: str, clock: Callable[[], datetime] = utc_now) -> list[Check]:
    """Each check in order; a failed database check stops the others (they would only repeat it)."""
    try:
        health.ping()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return [Check("database", False, f"unreachable: {reason}; check DIGEST_DATABASE_URL")]
    checks = [Check("database", True, "reachable")]
    schema = state(health.engine)
    checks.append(
        Check(
            "schema",
            schema.at_head,
            f"at revision {schema.head}"
            if schema.at_head
            else f"at {schema.where()}, needs revision {schema.head}: run `digest db upgrade`",
        )
    )
    last = health.figures().last_fetch
    limit = collect_limit(collect_every)
    if last is None:
        checks.append(
            Check("collect", False, "no collect has run yet: start `digest daemon` (or run `digest collect`)")
        )
    else:
        age = clock() - last
        ok = age <= limit
        checks.append(
            Check(
                "collect",
                ok,
                f"last collect {_ago(age)} ago"
                + ("" if ok else f", more than {_ago(limit)}: is `digest daemon` running?"),
            )
        )
    return checks


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
