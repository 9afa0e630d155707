"""Is the program healthy? The readiness checks behind `GET /readyz`, shared by the web side and the daemon.

database   the database answers a query
schema     its schema is at the revision this program needs (digest/db/migrate.py)
collect    the last collect ran within STALE_COLLECTS collect intervals ([schedule] collect_every)

The checks read two small things (digest/db/health.py ``Health.ready``), so they cost the same with a
million deliveries as with none. What they say is safe to show anyone: why the database cannot be reached
(which names its host, port and database) goes to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from subscribers.clock import now as utc_now

from ..db.health import Health
from ..db.migrate import HEAD
from ..timespec import parse_duration

log = logging.getLogger(__name__)
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
        found = health.ready()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        log.error("readiness: the database cannot be reached: %s; check DIGEST_DATABASE_URL", reason)
        return [Check("database", False, "unreachable: the reason is in the server's log; check DIGEST_DATABASE_URL")]
    checks = [Check("database", True, "reachable")]
    at_head = found.revision == HEAD
    where = f"revision {found.revision}" if found.revision else "no schema revision"
    checks.append(
        Check(
            "schema",
            at_head,
            f"at revision {HEAD}" if at_head else f"at {where}, needs revision {HEAD}: run `digest db upgrade`",
        )
    )
    last = found.last_fetch
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
