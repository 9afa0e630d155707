"""The daemon: collect often, build and send weekly, never twice, never silently missed.

``Jobs`` holds what each job does; ``Daemon`` wires it to an APScheduler 3 ``BlockingScheduler``
whose jobs persist in the project's database (the triggers come from digest.ops.schedule):

- at start-up a job is added only when absent, and a changed trigger keeps a pending (missed) run;
- ``misfire_grace_time`` = ``grace`` with ``coalesce``: a send missed while down runs once on return
  within the grace period, and beyond it is skipped with a warning (the next issue covers the gap);
- every send goes through digest.ops.sender (the issue's lease), so two daemons, or a daemon and cron,
  never send one issue twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED, JobExecutionEvent, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from subscribers.clock import now as utc_now

from ..config import Settings
from ..db import Database, make_engine
from ..delivery.lease import LeaseHeld, issue_lease, process_owner
from ..errors import DigestError, NothingToSend
from ..facade import Digest
from ..models import Issue, IssueStatus, counted
from .schedule import Schedule, last_fire, same_trigger
from .sender import Outcome, Sender

log = logging.getLogger(__name__)

JOBS_TABLE = "scheduler_jobs"
RETRY_ID = "send-retry"
STOP_TIMEOUT = 60.0


# -- what the jobs do -----------------------------------------------------------------------


class Jobs:
    """The collect, build and send jobs over one Digest; each is safe to run twice.

    Sending goes through :class:`digest.ops.sender.Sender`, like every other send."""

    def __init__(
        self,
        digest: Digest,
        schedule: Schedule,
        owner: str,
        should_stop: Callable[[], bool] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.digest, self.schedule, self.owner = digest, schedule, owner
        self.sender = Sender(digest, schedule, owner, should_stop=should_stop, clock=clock)
        self.clock = clock

    @property
    def db(self) -> Database:
        return self.digest.db

    def collect(self) -> Outcome:
        rep = self.digest.collect()
        failed = [f"{s.name} ({s.error})" for s in rep.sources if not s.ok]
        text = f"sources {rep.ok} ok, {rep.failed} failed; {rep.new} new articles"
        if failed:
            return Outcome("", text + "; failed: " + "; ".join(failed), level=logging.WARNING)
        return Outcome("", text)

    def bounces(self) -> Outcome:
        """Read the bounce mailbox once."""
        return Outcome("", self.digest.bounces().line())

    def build(self) -> Outcome:
        try:
            issue = self.digest.build(self.clock())
        except NothingToSend as exc:
            return Outcome("", str(exc))
        if issue.status != IssueStatus.DRAFT:
            return Outcome(issue.week, f"issue {issue.week} has started sending; not rebuilt")
        n, least = len(issue.articles), self.schedule.min_articles
        if n < least:
            held = self.sender.hold(issue)
            assert held is not None
            return held
        text = f"issue {issue.week} built: {counted(n, 'article')}; {issue.subject}"
        if self.schedule.require_approval and self.schedule.editors:
            text += "; " + self.test_to_editors(issue)
        return Outcome(issue.week, text)

    def test_to_editors(self, issue: Issue) -> str:
        """The draft to the editors as a test, once per version of the draft."""
        marker = f"editor-test:{issue.week}"
        version = hashlib.sha256(
            (issue.subject + "|" + ",".join(str(a.id) for a in issue.articles)).encode()
        ).hexdigest()[:16]
        assert issue.id is not None
        try:
            with issue_lease(self.db.issues, issue.id, issue.week, self.owner):
                if self.db.meta.get(marker) == version:
                    return "the editors already have this draft"
                n = self.digest.send_test(list(self.schedule.editors))
                self.db.meta.set(marker, version)
        except LeaseHeld as exc:
            return f"not sent to the editors here: {exc}"
        return f"test sent to {n} of {len(self.schedule.editors)} editors; approve with `digest approve`"

    def send(self) -> Outcome:
        """The weekly send: resume an interrupted issue, else this cycle's issue (built now if need be)."""
        now = self.clock()
        interrupted = self.sender.interrupted()
        if interrupted:
            return _last(self.sender.send(interrupted[-1]))
        if self.schedule.build is None:
            self.collect()
            try:
                issue = self.digest.build(now)
            except NothingToSend as exc:
                return Outcome("", str(exc))
            return _last(self.sender.send(issue))
        build_trigger = self.schedule.triggers()["build"]
        assert build_trigger is not None
        cycle = last_fire(build_trigger, now) or now - timedelta(days=7)
        latest = self.db.issues.latest((IssueStatus.DRAFT, IssueStatus.SENDING, IssueStatus.SENT, IssueStatus.SKIPPED))
        if latest is not None and latest.end >= cycle:
            return _last(self.sender.send(latest))
        log.warning("no issue was built at %s; building it now", cycle.astimezone(self.schedule.tz))
        built = self.build()
        latest = self.db.issues.latest((IssueStatus.DRAFT, IssueStatus.SKIPPED))
        if latest is None or latest.end < cycle:
            return built
        return _last(self.sender.send(latest))


def _last(outcomes: list[Outcome]) -> Outcome:
    """The outcome of the issue asked for (earlier, resumed ones are logged by the sender)."""
    for earlier in outcomes[:-1]:
        log.log(earlier.level, "%s", earlier.text)
    return outcomes[-1]


# -- the daemon -----------------------------------------------------------------------------

_local = threading.local()


def _bind(daemon: Daemon) -> None:
    _local.daemon = daemon


def run_job(kind: str) -> None:
    """What the stored jobs call (by reference, so the job store holds no objects): the job ``kind``
    of the daemon that owns this worker thread."""
    daemon: Daemon | None = getattr(_local, "daemon", None)
    if daemon is None:
        raise RuntimeError("digest jobs run inside `digest daemon` only")
    daemon.run(kind)


def make_jobstore(url: str) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=make_engine(url, pooled=False), tablename=JOBS_TABLE)


class Daemon:
    """`digest daemon`: a BlockingScheduler over the project's database."""

    def __init__(
        self,
        settings: Settings,
        loader: Callable[[], Settings] | None = None,
        owner: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings, self.loader, self.clock = settings, loader, clock
        self.owner = owner or process_owner()
        self.schedule = Schedule.from_config(settings.schedule, settings.bounces)
        self.digest = Digest(settings)
        self.stopping = threading.Event()
        self._running = 0
        self._idle = threading.Condition()
        self._reload_lock = threading.Lock()
        self._retired: list[Digest] = []
        grace = int(self.schedule.grace.total_seconds())
        self.scheduler = BlockingScheduler(
            jobstores={"default": make_jobstore(settings.database_url)},
            executors={"default": ThreadPoolExecutor(4, pool_kwargs={"initializer": _bind, "initargs": (self,)})},
            job_defaults={"coalesce": True, "misfire_grace_time": grace, "max_instances": 1},
            timezone=self.schedule.tz,
        )
        self.scheduler.add_listener(self._started, EVENT_SCHEDULER_STARTED)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)

    @property
    def jobs(self) -> Jobs:
        return Jobs(self.digest, self.schedule, self.owner, self.stopping.is_set, clock=self.clock)

    # -- running --------------------------------------------------------------------------

    def serve(self, install_signals: bool = True) -> int:
        """Run until stopped; returns the exit status (0 after a clean stop)."""
        if install_signals:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGHUP, self._on_signal)
        log.info("daemon %s started; timezone %s", self.owner, self.schedule.tz.key)
        self.scheduler.start()
        with self._idle:
            if not self._idle.wait_for(lambda: self._running == 0, timeout=STOP_TIMEOUT):
                log.error("a job did not finish within %.0f s of the stop; exiting anyway", STOP_TIMEOUT)
        for digest in (*self._retired, self.digest):
            digest.close()
        log.info("daemon %s stopped", self.owner)
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            threading.Thread(target=self.reload, name="digest-reload", daemon=True).start()
        else:
            self.stop()  # before the line that says so: a test waits for the line, then releases the mail
            log.info("%s: finishing the message in flight, then stopping", signal.Signals(signum).name)

    def stop(self) -> None:
        """Stop new work; a running job ends after its message in flight; serve() then returns."""
        from ..delivery.workers import stop_all

        self.stopping.set()
        stop_all()  # a send's worker processes stop now, not at their parent's next look
        threading.Thread(target=self._shutdown, name="digest-stop", daemon=True).start()

    def _shutdown(self) -> None:
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=False)

    def run(self, kind: str) -> None:
        with self._idle:
            if self.stopping.is_set():
                log.info("job %s: not started, the daemon is stopping", kind)
                return
            self._running += 1
        try:
            jobs = self.jobs
            outcome = {
                "collect": jobs.collect,
                "build": jobs.build,
                "send": jobs.send,
                "bounces": jobs.bounces,
                RETRY_ID: jobs.send,
            }[kind]()
            if outcome.retry_at is not None and not self.stopping.is_set():
                log.log(
                    outcome.level,
                    "job %s: %s; retrying at %s",
                    kind,
                    outcome.text,
                    f"{outcome.retry_at.astimezone(self.schedule.tz):%a %Y-%m-%d %H:%M %Z}",
                )
                self._add_retry(outcome.retry_at)
            else:
                log.log(outcome.level, "job %s: %s", kind, outcome.text)
        except DigestError as exc:
            log.error("job %s: failed: %s", kind, exc)
        except Exception:
            log.exception("job %s: failed unexpectedly", kind)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _add_retry(self, when: datetime) -> None:
        self.scheduler.add_job(
            run_job,
            DateTrigger(when, timezone=self.schedule.tz),
            args=(RETRY_ID,),
            id=RETRY_ID,
            name=RETRY_ID,
            replace_existing=True,
            misfire_grace_time=int(self.schedule.grace.total_seconds()),
        )

    # -- start-up and reload: make the stored jobs match the configuration ------------------

    def _started(self, _event: SchedulerEvent) -> None:
        if self.stopping.is_set():  # a signal came while the scheduler was starting: stop now
            self._shutdown()
            return
        self.reconcile()
        if self.digest.db.issues.latest((IssueStatus.SENDING,)) is not None:
            log.info("an issue was left sending; resuming it now")
            self._add_retry(self.clock())

    def reconcile(self) -> None:
        """Add missing jobs, remove unwanted ones, update changed ones, never dropping a pending run."""
        now = self.clock().astimezone(self.schedule.tz)
        grace = int(self.schedule.grace.total_seconds())
        for job_id, trigger in self.schedule.triggers().items():
            job = self.scheduler.get_job(job_id)
            if trigger is None:
                if job is not None:
                    self._remove(job_id)
                continue
            if job is None:
                first = now if job_id == "collect" else trigger.get_next_fire_time(None, now)
                with contextlib.suppress(ConflictingIdError):  # another daemon may have added it just now
                    self.scheduler.add_job(
                        run_job,
                        trigger,
                        args=(job_id,),
                        id=job_id,
                        name=job_id,
                        next_run_time=first,
                        misfire_grace_time=grace,
                        coalesce=True,
                        max_instances=1,
                    )
                continue
            if same_trigger(job.trigger, trigger) and job.misfire_grace_time == grace and job.coalesce:
                continue
            changes: dict[str, Any] = {"trigger": trigger, "misfire_grace_time": grace, "coalesce": True}
            if job.next_run_time is None or job.next_run_time > now:  # a pending missed run is kept
                changes["next_run_time"] = trigger.get_next_fire_time(None, now)
            self.scheduler.modify_job(job_id, **changes)
            log.info("job %s now runs %s", job_id, self.schedule.describe(job_id))

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    def reload(self) -> None:
        """SIGHUP: read digest.toml again; a bad file is logged and the running settings kept."""
        if self.loader is None:
            return
        with self._reload_lock:
            try:
                settings = self.loader()
                schedule = Schedule.from_config(settings.schedule, settings.bounces)
                digest = Digest(settings)
            except DigestError as exc:
                log.error("reload: %s; keeping the running settings", exc)
                return
            self._retired.append(self.digest)  # closed at the stop: a running job may still use it
            self.settings, self.schedule, self.digest = settings, schedule, digest
            self.reconcile()
            log.info("reloaded %s", settings.config_path or "the settings")

    def _missed(self, event: JobExecutionEvent) -> None:
        log.warning(
            "job %s: the run of %s was missed by more than the grace period (%s) and is skipped; "
            "the next issue covers everything since the last one, so no article is lost",
            event.job_id,
            f"{event.scheduled_run_time.astimezone(self.schedule.tz):%a %Y-%m-%d %H:%M %Z}",
            self.schedule.grace,
        )


# -- visibility -----------------------------------------------------------------------------


@dataclass
class PlannedJob:
    job_id: str
    spec: str
    next_run: datetime | None
    stored: bool


def planned_jobs(settings: Settings, now: datetime | None = None) -> list[PlannedJob]:
    """Each job's next run as stored by the daemon, or as it would be when the daemon starts.

    Reads only: a database that is not there, or in which the daemon never stored its jobs, is left as
    it is, and every job is shown as planned from the configuration."""
    schedule = Schedule.from_config(settings.schedule, settings.bounces)
    now = (now or utc_now()).astimezone(schedule.tz)
    stored = stored_runs(settings.database_url)
    out = []
    for job_id, trigger in schedule.triggers().items():
        if trigger is None:
            continue
        if stored is not None and job_id in stored:
            out.append(PlannedJob(job_id, schedule.describe(job_id), stored[job_id], True))
        else:
            nxt = now if job_id == "collect" else trigger.get_next_fire_time(None, now)
            out.append(PlannedJob(job_id, schedule.describe(job_id), nxt, False))
    if stored is not None and RETRY_ID in stored:
        out.append(PlannedJob(RETRY_ID, "retry of the send", stored[RETRY_ID], True))
    return [
        PlannedJob(j.job_id, j.spec, j.next_run.astimezone(schedule.tz) if j.next_run else None, j.stored) for j in out
    ]


def stored_runs(url: str) -> dict[str, datetime | None] | None:
    """The next run of each job the daemon stored, by id; None when it never ran on this database (no
    database, or no jobs table in it). Creates nothing."""
    from sqlalchemy import inspect

    from ..storage import sqlite_file

    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    engine = make_engine(url, pooled=False)
    try:
        if not inspect(engine).has_table(JOBS_TABLE):
            return None
        store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        store.start(BlockingScheduler(), "default")
        try:
            return {job.id: job.next_run_time for job in store.get_all_jobs()}
        finally:
            store.shutdown()
    finally:
        engine.dispose()


@dataclass
class Status:
    sources: list[dict[str, Any]]
    draft: Issue | None
    draft_approved: datetime | None
    last: Issue | None
    last_counts: dict[str, int] = field(default_factory=dict)


def status(digest: Digest) -> Status:
    db = digest.db
    draft = digest.find_draft()
    last = db.issues.latest((IssueStatus.SENDING, IssueStatus.SENT))
    return Status(
        sources=db.sources.rows(),
        draft=draft,
        draft_approved=digest.approved_at(draft) if draft else None,
        last=last,
        last_counts=db.deliveries.counts(last.id) if last else {},
    )
