"""The one send path: which issue goes, whether it may go now, under whose lease, and what came of it.

``digest send``, ``digest run``, the daemon's weekly send and the editor's *Send now* all call
:class:`Sender`; nothing else delivers an issue. For every issue it

1. resumes first any issue an earlier run left ``sending`` (oldest first: a crash never strands a week);
2. holds a draft back when it is too small (``min_articles``: skipped, its articles roll forward) or
   not approved while ``require_approval`` is set (with a time to try again, or skipped after the grace);
3. takes the issue's lease (one sender per issue; a holder on this host whose process is gone is
   taken over at once) and delivers through the outbox, renewing the lease between messages;
4. says what happened in one line (:class:`Outcome`).

:class:`BackgroundSend` runs one such send in a thread that the web app owns, with its progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from subscribers.clock import now as utc_now

from ..config import Settings
from ..db import Database
from ..delivery.lease import LeaseHeld, issue_lease, process_owner
from ..delivery.outbox import DeliveryReport, Progress, SendOptions
from ..errors import DigestError, NothingToSend, UsageError
from ..facade import Digest
from ..models import Issue, IssueStatus, counted
from .schedule import Schedule, last_send_time

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """One attempt to send one issue: a line for people, and what the caller may do next."""

    week: str
    text: str
    report: DeliveryReport | None = None
    retry_at: datetime | None = None  # approval pending: the daemon tries again then
    deadline: datetime | None = None  # approval pending: past this time the issue is skipped
    level: int = logging.INFO


def refuse_samples_over_smtp(settings: Settings) -> None:
    """The bundled samples are invented news: they may fill the outbox folder, never a mail server."""
    if not (settings.uses_samples and settings.smtp.host):
        return
    if settings.config_path is not None:
        raise UsageError(
            f"{settings.config_path} has no [[sources]]: the bundled sample sources only write to "
            "the outbox folder; add your feeds as [[sources]] with name and url"
        )
    raise UsageError(
        f"no digest.toml in {Path.cwd()}: the bundled sample sources only write to the outbox "
        "folder; pass --config FILE or create one with `digest init`"
    )


def describe(rep: DeliveryReport) -> str:
    return rep.in_words + ("; stopped before the end, the next run resumes" if rep.stopped else "")


class Sender:
    """Sends issues of one Digest under one owner identity, by the policy of its [schedule]."""

    def __init__(
        self,
        digest: Digest,
        policy: Schedule,
        owner: str | None = None,
        *,
        should_stop: Callable[[], bool] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.digest, self.policy = digest, policy
        self.owner = owner or process_owner()
        self.should_stop, self.clock = should_stop, clock

    @property
    def db(self) -> Database:
        return self.digest.db

    # -- what to send ----------------------------------------------------------------------

    def interrupted(self, besides: Issue | None = None) -> list[Issue]:
        """Issues an earlier run left sending, oldest first (``besides`` excluded)."""
        found = [i for i in self.db.issues.with_status((IssueStatus.SENDING,)) if besides is None or i.id != besides.id]
        return sorted(found, key=lambda i: i.end)

    def send(
        self,
        issue: Issue | None = None,
        *,
        options: SendOptions | None = None,
        progress: Progress | None = None,
        approved: bool = False,
    ) -> list[Outcome]:
        """Resume what an earlier run left sending, then send ``issue`` (default: the current one).

        ``approved``: the caller is the editor who approves this send (*Send now*)."""
        target = issue
        if target is None:
            try:
                target = self.digest.current_issue()
            except NothingToSend:
                if not self.interrupted():
                    raise
        outcomes = self.resume(besides=target, options=options, progress=progress)
        if target is not None and not self._stopping():
            if approved and target.status == IssueStatus.DRAFT:
                self.digest.approve(target.week)
            outcomes.append(self.publish(target, options=options, progress=progress))
        return outcomes

    def resume(
        self, besides: Issue | None = None, *, options: SendOptions | None = None, progress: Progress | None = None
    ) -> list[Outcome]:
        """Finish every send that an earlier run left half done (oldest first)."""
        outcomes = []
        for issue in self.interrupted(besides):
            if self._stopping():
                break
            outcomes.append(self.publish(issue, options=options, progress=progress))
        return outcomes

    def join(
        self, issue: Issue | None = None, *, options: SendOptions | None = None, progress: Progress | None = None
    ) -> Outcome:
        """Extra workers for a send that another process holds the lease of (``digest send --join``).

        The same gates apply; the lease does not: the rows' own leases keep the workers apart."""
        refuse_samples_over_smtp(self.digest.settings)
        issue = issue or self.digest.current_issue()
        if issue.status == IssueStatus.SENT:
            return Outcome(issue.week, f"issue {issue.week} was already sent; nothing to do")
        held = self.hold(issue)
        if held is not None:
            return held
        rep = self.digest.deliver(issue, options=options, progress=progress, should_stop=self._stopping)
        return Outcome(issue.week, f"issue {issue.week}: {describe(rep)}", report=rep)

    # -- one issue -------------------------------------------------------------------------

    def publish(self, issue: Issue, *, options: SendOptions | None = None, progress: Progress | None = None) -> Outcome:
        """Send ``issue`` if it may go now, under its lease; resumes a send left half done."""
        refuse_samples_over_smtp(self.digest.settings)
        if issue.status == IssueStatus.SENT:
            return Outcome(issue.week, f"issue {issue.week} was already sent; nothing to do")
        if issue.status == IssueStatus.SKIPPED:
            return Outcome(issue.week, f"issue {issue.week} was skipped; its articles roll into the next issue")
        held = self.hold(issue)
        if held is not None:
            return held
        assert issue.id is not None
        try:
            with issue_lease(self.db.issues, issue.id, issue.week, self.owner) as lease:
                fresh = self.db.issues.get(issue.id)
                if fresh is None or fresh.status == IssueStatus.SENT:
                    return Outcome(issue.week, f"issue {issue.week} was already sent; nothing to do")

                def stop() -> bool:
                    return self._stopping() or not lease.renew()

                rep = self.digest.deliver(fresh, options=options, progress=progress, should_stop=stop)
        except LeaseHeld as exc:
            return Outcome(issue.week, str(exc))
        return Outcome(issue.week, f"issue {issue.week}: {describe(rep)}", report=rep)

    def hold(self, issue: Issue) -> Outcome | None:
        """Why a draft must not be sent now (too small: skipped; not approved: retry later), or None."""
        if issue.status != IssueStatus.DRAFT:
            return None
        n, least = len(issue.articles), self.policy.min_articles
        if n < least:
            self.db.issues.set_status(issue.id, IssueStatus.SKIPPED)
            return Outcome(
                issue.week,
                f"issue {issue.week} skipped: {counted(n, 'article')}, "
                f"fewer than min_articles = {least}; "
                "they roll into the next issue",
            )
        if self.policy.require_approval and self.db.issues.approved_at(issue.id) is None:
            return self._not_approved(issue)
        return None

    def _not_approved(self, issue: Issue) -> Outcome:
        now, p = self.clock(), self.policy
        scheduled = last_send_time(p, now) or now
        deadline = scheduled + p.grace
        if now >= deadline:
            self.db.issues.set_status(issue.id, IssueStatus.SKIPPED)
            return Outcome(
                issue.week,
                f"issue {issue.week} was not approved within {p.grace} of "
                f"{scheduled:%a %Y-%m-%d %H:%M}; skipped, its articles roll into the next issue",
                level=logging.WARNING,
            )
        return Outcome(
            issue.week,
            f"issue {issue.week} is not approved yet (run `digest approve`)",
            retry_at=min(now + p.retry_every, deadline),
            deadline=deadline,
            level=logging.WARNING,
        )

    def _stopping(self) -> bool:
        return bool(self.should_stop and self.should_stop())


# -- a send in the background, for the web ---------------------------------------------------


@dataclass(frozen=True)
class SendStatus:
    """Where a background send stands; ``text`` is its one-line outcome so far."""

    week: str
    started_at: datetime
    total: int = 0
    done: int = 0
    finished: bool = False
    text: str = "starting…"
    error: str | None = None


def finished_text(rep: DeliveryReport) -> str:
    return f"done: {rep.sent} sent, {rep.failed} failed, {rep.deferred} deferred, {rep.skipped} skipped."


class BackgroundSend:
    """One send at a time, in a thread of this process (the web app's), through a :class:`Sender`.

    The editor who asks for it approves the issue; the sender takes the issue's lease like any other,
    so a send the daemon or cron has under way is left to them."""

    def __init__(self, sender: Callable[[], Sender]) -> None:
        self._sender = sender
        self._lock = threading.Lock()
        self._status: SendStatus | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, week: str) -> None:
        """Start sending issue ``week``; a DigestError says why it cannot."""
        if self._stop.is_set():
            raise UsageError("the server is stopping; the next sender (digest send, the daemon) sends the issue")
        sender = self._sender()
        sender.should_stop = self._stop.is_set
        issue = sender.db.issues.of_week(week)
        if issue is None:
            raise NothingToSend(f"there is no issue {week}; build the draft first")
        if issue.status == IssueStatus.SENT:
            raise UsageError(f"issue {week} was sent already; build next week's draft")
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                running = self._status.week if self._status else week
                raise UsageError(f"issue {running} is being sent already; wait for it to finish")
            self._status = SendStatus(week=week, started_at=utc_now())
            self._thread = threading.Thread(target=self._run, args=(sender, issue), name=f"send-{week}", daemon=True)
            self._thread.start()

    def status(self) -> SendStatus | None:
        with self._lock:
            return self._status

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the messages in flight (the server is stopping): the issue stays sending, with every
        finished row recorded, and the next sender (`digest send`, `digest run`, the daemon) finishes it."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> SendStatus | None:
        """Block until the running send ends (or ``timeout`` passes); its status then."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def _update(self, **changes: Any) -> None:
        with self._lock:
            if self._status is not None:
                self._status = replace(self._status, **changes)

    def _progress(self, rep: DeliveryReport) -> None:
        done = rep.done + rep.deferred
        self._update(total=rep.total, done=done, text=f"sending: {done} of {rep.total}")

    def _run(self, sender: Sender, issue: Issue) -> None:
        try:
            outcomes = sender.send(issue, progress=self._progress, approved=True)
        except DigestError as exc:
            self._update(finished=True, text=f"stopped: {exc}", error=str(exc))
            return
        except Exception as exc:  # a background thread has no one else to tell
            log.exception("sending issue %s failed", issue.week)
            self._update(finished=True, text=f"stopped: unexpected error: {exc}", error=f"unexpected error: {exc}")
            return
        for earlier in outcomes[:-1]:
            log.log(earlier.level, "%s", earlier.text)
        last = outcomes[-1]
        if last.report is None:
            self._update(finished=True, text=f"stopped: {last.text}", error=last.text)
        else:
            rep = last.report
            self._update(total=rep.total, done=rep.done + rep.deferred, finished=True, text=finished_text(rep))
