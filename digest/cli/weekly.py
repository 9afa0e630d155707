"""The weekly job, step by step: collect, build, preview, send, send-test, and run (all of them, for cron)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..collect.jurisdictions import parse_codes
from ..errors import NothingToSend
from ..models import counted
from .context import Context, F, fail, handle_errors, pass_ctx, stderr

if TYPE_CHECKING:
    from ..collect.stage import CollectReport
    from ..delivery.outbox import DeliveryReport
    from ..models import Issue
    from ..ops.sender import Sender


def _collect_line(rep: CollectReport) -> str:
    """The counts; each failing source was named, with its reason, once, in the log's warnings."""
    return f"sources: {rep.ok} ok, {rep.failed} failed; articles: {rep.new} new, {rep.kept} already stored"


def _all_failed(rep: CollectReport) -> bool:
    return bool(rep.sources) and rep.ok == 0


def _send_line(rep: DeliveryReport) -> str:
    """The outcome, and the rate as the count sent over the send's own time (shown as it was divided)."""
    seconds = float(f"{rep.seconds:.3g}")
    rate = f"{rep.sent / seconds:.3g}/s" if seconds > 0 else "no time measured"
    return f"messages: {rep.in_words}; {rep.sent} sent in {seconds:g} s ({rate})"


@click.command()
@pass_ctx
@handle_errors
def collect(c: Context) -> None:
    """Fetch every source once and store new tagged articles.

    A failing source is a warning that names it and why; the others go on.

    \b
    Example:
      digest -v collect
    """
    rep = c.digest.collect()
    c.say(f"collect: {_collect_line(rep)}; {c.elapsed()}")
    if _all_failed(rep):
        fail(f"all {len(rep.sources)} sources failed")


@click.command()
@pass_ctx
@handle_errors
def build(c: Context) -> None:
    """Compose (or recompose) this week's draft from the stored articles.

    \b
    Example:
      digest build && digest preview --out /tmp/draft
    """
    issue = c.digest.build()
    c.say(
        f"build: issue {issue.week} ({issue.status}): {counted(len(issue.articles), 'article')} in "
        f"{counted(len(issue.sections), 'section')}; subject: {issue.subject}; {c.elapsed()}"
    )


@click.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder for preview.html and preview.txt.")
@click.option("--topics", help="Preview the variant for these topics (comma-separated).")
@click.option("--jurisdictions", help="Preview the variant for these jurisdiction codes (comma-separated).")
@pass_ctx
@handle_errors
def preview(c: Context, out: Path | None, topics: str | None, jurisdictions: str | None) -> None:
    """Write the draft's HTML and text as the subscriber will see them; send nothing.

    Exits 1 when there is no issue to preview.

    \b
    Example:
      digest preview --out preview/ --topics patents --jurisdictions upc,eu
    """
    places = frozenset(parse_codes(jurisdictions)) or None
    try:
        p = c.digest.preview(out, c.chosen_topics(topics), places=places)
    except NothingToSend as exc:
        fail(str(exc))
    c.say(f"preview: {p.html.resolve()} and {p.text.resolve()}")


def _send_options(func: F) -> F:
    func = click.option(
        "--rate",
        type=click.FloatRange(min=0.01),
        default=None,
        help="At most this many messages per second overall (for relays that throttle).",
    )(func)
    func = click.option(
        "--concurrency",
        "-j",
        type=click.IntRange(1, 64),
        default=4,
        show_default=True,
        help="SMTP connections in parallel.",
    )(func)
    func = click.option(
        "--processes",
        type=click.IntRange(1, 64),
        default=None,
        help="Worker processes sharing those connections (default: one per core).",
    )(func)
    return func


@click.command()
@_send_options
@click.option(
    "--join", is_flag=True, help="Join a send already under way as extra workers, instead of waiting for its lease."
)
@pass_ctx
@handle_errors
def send(c: Context, concurrency: int, rate: float | None, processes: int | None, join: bool) -> None:
    """Deliver the built issue to active subscribers; run it again to resume.

    One sender holds an issue's lease, so a daemon and cron never interleave; more workers
    (on one host or, with PostgreSQL, many) share that send with --join, each claiming its own rows.

    \b
    Example:
      SMTP_HOST=smtp.example.org SMTP_USERNAME=digest digest send --concurrency 8 --rate 50
    """
    _send(c, concurrency, rate, join=join, processes=processes)


class _Progress:
    """A progress bar on a terminal (tqdm); a log line every ``every`` seconds otherwise."""

    def __init__(self, total: int, quiet: bool, as_json: bool = False, every: float = 10.0) -> None:
        self.bar: Any = None
        self.quiet, self.as_json, self.every, self.next = quiet, as_json, every, time.monotonic() + every
        if not quiet and not as_json and sys.stderr.isatty() and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="msg", file=sys.stderr, smoothing=0.1)
        self.seen = 0

    def __call__(self, rep: DeliveryReport) -> None:
        done = rep.done + rep.deferred
        if self.bar is not None:
            self.bar.update(done - self.seen)
            self.seen = done
        elif not self.quiet and time.monotonic() >= self.next:
            self.next = time.monotonic() + self.every
            stderr(
                f"send: {rep.sent} sent, {rep.failed} failed, {rep.deferred} deferred of {rep.total}; "
                f"{rep.sent / max(time.monotonic() - rep.started, 1e-9):.3g}/s so far",
                logging.INFO,
                self.as_json,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _sender(c: Context) -> Sender:
    from ..ops.schedule import Schedule
    from ..ops.sender import Sender

    return Sender(c.digest, Schedule.from_config(c.settings.schedule))


def _send(
    c: Context,
    concurrency: int = 4,
    rate: float | None = None,
    issue: Issue | None = None,
    join: bool = False,
    resume_only: bool = False,
    processes: int | None = None,
) -> None:
    """The send of `digest send` and `digest run`: whatever is due, through the one send path.

    ``resume_only``: only what earlier runs left half sent."""
    d, sender = c.digest, _sender(c)
    interrupted = sender.interrupted()
    shown = issue or (interrupted[-1] if interrupted else d.current_issue())
    c.say(
        f"send: issue {shown.week} via {d.transport(shown).describe()}, {concurrency} at a time"
        + (f", at most {rate:g}/s" if rate else "")
    )
    quiet = logging.getLogger().level >= logging.ERROR
    progress: _Progress | None = None

    def report(rep: DeliveryReport) -> None:
        nonlocal progress
        if progress is None:
            progress = _Progress(rep.total, quiet, c.json)
        progress(rep)

    from ..delivery.workers import available

    options = d.send_options(concurrency, rate, processes or available())
    try:
        if join:
            outcomes = [sender.join(issue, options=options, progress=report)]
        elif resume_only:
            outcomes = sender.resume(options=options, progress=report)
        else:
            outcomes = sender.send(issue, options=options, progress=report)
    finally:
        if progress is not None:
            progress.close()
    for outcome in outcomes:
        if outcome.deadline is not None:  # not approved: under cron no one retries but the next run
            c.tell(
                f"send: {outcome.text}; the next `digest run` or `digest send` sends it once it is approved, "
                f"until {outcome.deadline.astimezone(sender.policy.tz):%a %Y-%m-%d %H:%M %Z}"
            )
        elif outcome.report is None:
            if outcome.level >= logging.WARNING:
                c.tell(f"send: {outcome.text}", outcome.level)
            else:
                c.say(f"send: {outcome.text}")
            continue
        else:
            c.say(f"send: issue {outcome.week}: {_send_line(outcome.report)}")
        sent = d.issue_of_week(outcome.week)
        if outcome.report is not None and not d.settings.smtp.host and sent is not None:
            p = d.preview(issue=sent)
            c.say(f"outbox: {d.outbox_folder(sent).resolve()}")
            c.say(f"preview: {p.html.resolve()}")


@click.command("send-test")
@click.option("--to", "to", multiple=True, required=True, help="An address to send the test to (repeatable).")
@pass_ctx
@handle_errors
def send_test(c: Context, to: tuple[str, ...]) -> None:
    """Send the draft to the given addresses only, with [TEST] in the subject; nothing is recorded.

    Exits 1 when there is no issue to send or no address took the test.

    \b
    Example:
      digest send-test --to editor@example.org --to colleague@example.org
    """
    try:
        n = c.digest.send_test(list(to))
    except NothingToSend as exc:
        fail(str(exc))
    if n == 0:
        fail(f"send-test: none of the {len(to)} addresses took the test")
    c.say(f"send-test: {n} of {len(to)} sent; {c.elapsed()}")


@click.command()
@_send_options
@pass_ctx
@handle_errors
def run(c: Context, concurrency: int, rate: float | None, processes: int | None) -> None:
    """Collect, build this week's issue and send it: the one command for cron.

    Running it again in the same week sends nothing new.

    \b
    Example:
      0 7 * * mon  cd /srv/digest && digest -q run
    """
    from ..ops.sender import refuse_samples_over_smtp

    refuse_samples_over_smtp(c.settings)  # before an hour of collecting, not after
    d = c.digest
    rep = d.collect()
    c.say(f"collect: {_collect_line(rep)}")
    if _all_failed(rep):
        fail(f"all {len(rep.sources)} sources failed; no issue built")
    try:
        issue = d.build()
    except NothingToSend as exc:
        c.say(f"build: {exc}; {c.elapsed()}")
        if _sender(c).interrupted():  # an earlier week's send that stopped half way is finished now
            _send(c, concurrency, rate, resume_only=True, processes=processes)
        return
    c.say(f"build: issue {issue.week} ({issue.status}): {counted(len(issue.articles), 'article')}; {issue.subject}")
    _send(c, concurrency, rate, issue, processes=processes)


COMMANDS = {"collect": collect, "build": build, "preview": preview, "send": send, "send-test": send_test, "run": run}
