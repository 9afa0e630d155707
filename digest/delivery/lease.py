"""Who this process is as a lease holder, and the one-sender lease on an issue (its SQL: digest/db/issues.py).

A lease owner is ``host:pid:tag``: one identity per process (the tag tells apart a reused pid). A lease
whose holder is a process on this host that no longer runs (killed mid-send) is taken over at once, for
the issue lease here as for the outbox's rows (digest/deliver.py); any other lease stays until it expires.
The holder renews the lease between messages.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache

from ..db.issues import Issues
from ..errors import DigestError

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=10)


class LeaseHeld(DigestError):
    """Another process is sending this issue; nothing to do here (exit 0)."""

    exit_code = 0

    def __init__(self, week: str, owner: str, until: datetime | None) -> None:
        self.owner = owner
        when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
        super().__init__(f"issue {week} is being sent by {owner}{when}; this run leaves it to that sender")


def process_owner() -> str:
    """This process as a lease owner: host, pid and a random tag made once per process."""
    return _owner(os.getpid())


@cache
def _owner(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone(owner: str | None) -> bool:
    """True when ``owner`` is a process on this host, other than this one, that no longer runs."""
    parts = (owner or "").split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and not _alive(pid)


class Lease:
    """The send lease of one issue, held by ``owner``."""

    def __init__(self, issues: Issues, issue_id: int, owner: str, ttl: timedelta = DEFAULT_TTL) -> None:
        self.issues, self.issue_id, self.owner, self.ttl = issues, issue_id, owner, ttl
        self._renewed = 0.0

    def acquire(self) -> bool:
        """Take the lease unless another owner holds an unexpired one; a holder that is gone (see ``gone``)
        is displaced at once."""
        holder, _ = self.issues.lease_holder(self.issue_id)
        stale = holder if holder != self.owner and gone(holder) else None
        taken = self.issues.take_lease(self.issue_id, self.owner, self.ttl, displace=stale)
        if taken and stale:
            log.warning(
                "the send of issue %s by %s stopped without finishing (the process is gone); this run takes it over",
                self.issue_id,
                stale,
            )
        self._renewed = time.monotonic()
        return taken

    def holder(self) -> tuple[str | None, datetime | None]:
        return self.issues.lease_holder(self.issue_id)

    def renew(self) -> bool:
        """Extend the lease (at most every ttl/4); False when it was lost to another owner."""
        if time.monotonic() - self._renewed < self.ttl.total_seconds() / 4:
            return True
        done = self.issues.renew_lease(self.issue_id, self.owner, self.ttl)
        self._renewed = time.monotonic()
        if not done:
            log.error("lost the send lease of issue %s to another process; stopping", self.issue_id)
        return done

    def release(self) -> None:
        self.issues.release_lease(self.issue_id, self.owner)


@contextmanager
def issue_lease(issues: Issues, issue_id: int, week: str, owner: str, ttl: timedelta = DEFAULT_TTL) -> Iterator[Lease]:
    """Hold the send lease of one issue for the block; LeaseHeld when another process has it."""
    lease = Lease(issues, issue_id, owner, ttl)
    if not lease.acquire():
        holder, until = lease.holder()
        raise LeaseHeld(week, holder or "another process", until)
    try:
        yield lease
    finally:
        lease.release()
