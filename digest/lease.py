"""One sender per issue: a lease on the issue's row (issues.lease_owner / issues.lease_until).

Taking the lease is one conditional UPDATE ("set me as owner where nobody holds an unexpired lease"),
which both SQLite (one writer at a time) and PostgreSQL (row lock, re-checked after a concurrent update)
apply atomically; on PostgreSQL the row is first locked with SELECT … FOR UPDATE so competing senders
queue on it. The holder renews the lease between messages; a crashed holder's lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from .db import tables as t
from .errors import DigestError
from .store import Store, now

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=10)


class LeaseHeld(DigestError):
    """Another process is sending this issue; nothing to do here (exit 0)."""

    exit_code = 0

    def __init__(self, week: str, owner: str, until: datetime | None) -> None:
        self.owner = owner
        when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
        super().__init__(f"issue {week} is being sent by {owner}{when}; this run leaves it to that sender")


def make_owner() -> str:
    """A name for this process that no other process shares: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, store: Store, issue_id: int, owner: str, ttl: timedelta = DEFAULT_TTL) -> None:
        self.store, self.issue_id, self.owner, self.ttl = store, issue_id, owner, ttl
        self._renewed = 0.0

    def acquire(self) -> bool:
        """Take the lease unless another owner holds an unexpired one."""
        issues = t.issues
        with self.store.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(issues.c.id).where(issues.c.id == self.issue_id).with_for_update())
            moment = now()
            free = or_(issues.c.lease_owner.is_(None), issues.c.lease_until <= moment,
                       issues.c.lease_owner == self.owner)
            done = conn.execute(update(issues).where(issues.c.id == self.issue_id, free)
                                .values(lease_owner=self.owner, lease_until=moment + self.ttl)).rowcount
        self._renewed = time.monotonic()
        return bool(done)

    def holder(self) -> tuple[str | None, datetime | None]:
        with self.store.begin() as conn:
            row = conn.execute(select(t.issues.c.lease_owner, t.issues.c.lease_until)
                               .where(t.issues.c.id == self.issue_id)).first()
        return (row[0], row[1]) if row else (None, None)

    def renew(self) -> bool:
        """Extend the lease (at most every ttl/4); False when it was lost to another owner."""
        if time.monotonic() - self._renewed < self.ttl.total_seconds() / 4:
            return True
        with self.store.begin() as conn:
            done = conn.execute(update(t.issues).where(t.issues.c.id == self.issue_id,
                                                       t.issues.c.lease_owner == self.owner)
                                .values(lease_until=now() + self.ttl)).rowcount
        self._renewed = time.monotonic()
        if not done:
            log.error("lost the send lease of issue %s to another process; stopping", self.issue_id)
        return bool(done)

    def release(self) -> None:
        with self.store.begin() as conn:
            conn.execute(update(t.issues).where(t.issues.c.id == self.issue_id, t.issues.c.lease_owner == self.owner)
                         .values(lease_owner=None, lease_until=None))


@contextmanager
def issue_lease(store: Store, issue_id: int, week: str, owner: str,
                ttl: timedelta = DEFAULT_TTL) -> Iterator[Lease]:
    """Hold the send lease of one issue for the block; LeaseHeld when another process has it."""
    lease = Lease(store, issue_id, owner, ttl)
    if not lease.acquire():
        holder, until = lease.holder()
        raise LeaseHeld(week, holder or "another process", until)
    try:
        yield lease
    finally:
        lease.release()
