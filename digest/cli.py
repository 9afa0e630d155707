"""The command line: a thin skin over digest.pipeline."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from subscribers.csvio import CSVFormatError, export_csv, import_csv
from subscribers.model import STATUSES
from subscribers.validation import InvalidAddress, clean_name, normalize_email, parse_topics

from . import __version__
from .collect import CollectReport
from .config import Settings, load_settings
from .deliver import DeliveryReport
from .editing import ACTIONS, Action, perform
from .errors import DigestError, NothingToSend
from .models import Issue
from .pipeline import Digest
from .schedule import Schedule
from .scheduler import Daemon, planned_jobs
from .scheduler import approve as approve_issue
from .scheduler import status as scheduler_status
from .sending import Sender

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    def __init__(self, config: Path | None, verbose: int = 0, quiet: bool = False) -> None:
        self.config, self.verbose, self.quiet = config, verbose, quiet
        self._digest: Digest | None = None
        self.started = time.monotonic()

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings(self.config)

    @property
    def digest(self) -> Digest:
        if self._digest is None:
            self._digest = Digest(self.settings)
        return self._digest

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"


def handle_errors(func: F) -> F:
    """Every DigestError becomes a one-line message and the exit status of the contract."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NothingToSend as exc:
            click.echo(str(exc))
            sys.exit(exc.exit_code)
        except DigestError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", type=click.Path(path_type=Path), envvar="DIGEST_CONFIG",
              help="digest.toml to read (default: ./digest.toml, else the bundled sample sources).")
@click.option("-v", "--verbose", count=True, help="More log lines on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(__version__, prog_name="digest")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int, quiet: bool) -> None:
    """IP Digest: the week's intellectual-property protection news as one email.

    \b
    Example:
      digest run            # collect, build this week's issue, send it
    """
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        for noisy in ("trafilatura", "htmldate", "urllib3", "charset_normalizer", "cssutils", "premailer"):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING) if verbose else logging.ERROR)
    ctx.obj = Context(config, verbose, quiet)
    ctx.call_on_close(lambda: ctx.obj._digest.close() if ctx.obj._digest else None)


pass_ctx = click.make_pass_decorator(Context)


def _collect_line(rep: CollectReport) -> str:
    failed = [s.name for s in rep.sources if not s.ok]
    line = f"sources: {rep.ok} ok, {rep.failed} failed; articles: {rep.new} new, {rep.kept} already stored"
    return line + (f" (failed: {', '.join(failed)})" if failed else "")


def _send_line(rep: DeliveryReport) -> str:
    return (f"messages: {rep.sent} sent, {rep.failed} failed, {rep.deferred} deferred, "
            f"{rep.already} already sent earlier, {rep.skipped} skipped; {rep.rate:.0f}/s")


def _print_failures(rep: CollectReport) -> None:
    for s in rep.sources:
        if not s.ok:
            click.echo(f"warning: source {s.name!r} ({s.url}) failed: {s.error}", err=True)


@cli.command()
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
    _print_failures(rep)
    click.echo(f"collect: {_collect_line(rep)}; {c.elapsed()}")
    if rep.sources and rep.ok == 0:
        sys.exit(1)


@cli.command()
@pass_ctx
@handle_errors
def build(c: Context) -> None:
    """Compose (or recompose) this week's draft from the stored articles.

    \b
    Example:
      digest build && digest preview --out /tmp/draft
    """
    issue = c.digest.build()
    click.echo(f"build: issue {issue.week} ({issue.status}): {len(issue.articles)} articles in "
               f"{len(issue.sections)} sections; subject: {issue.subject}; {c.elapsed()}")


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder for preview.html and preview.txt.")
@click.option("--topics", help="Preview the variant for these topics (comma-separated).")
@pass_ctx
@handle_errors
def preview(c: Context, out: Path | None, topics: str | None) -> None:
    """Write the draft's HTML and text as the subscriber will see them; send nothing.

    \b
    Example:
      digest preview --out preview/
    """
    p = c.digest.preview(out, frozenset(parse_topics(topics)) or None)
    click.echo(f"preview: {p.html.resolve()} and {p.text.resolve()}")


def _send_options(func: F) -> F:
    func = click.option("--rate", type=click.FloatRange(min=0.01), default=None,
                        help="At most this many messages per second overall (for relays that throttle).")(func)
    func = click.option("--concurrency", "-j", type=click.IntRange(1, 64), default=4, show_default=True,
                        help="SMTP connections in parallel.")(func)
    return func


@cli.command()
@_send_options
@click.option("--join", is_flag=True,
              help="Join a send already under way as extra workers, instead of waiting for its lease.")
@pass_ctx
@handle_errors
def send(c: Context, concurrency: int, rate: float | None, join: bool) -> None:
    """Deliver the built issue to active subscribers; run it again to resume.

    One sender holds an issue's lease, so a daemon and cron never interleave; more workers
    (on one host or, with PostgreSQL, many) share that send with --join, each claiming its own rows.

    \b
    Example:
      SMTP_HOST=smtp.example.org SMTP_USERNAME=digest digest send --concurrency 8 --rate 50
    """
    _send(c, concurrency, rate, join=join)


class _Progress:
    """A progress bar on a terminal (tqdm); a log line every ``every`` seconds otherwise."""

    def __init__(self, total: int, quiet: bool, every: float = 10.0) -> None:
        self.bar: Any = None
        self.quiet, self.every, self.next = quiet, every, time.monotonic() + every
        if not quiet and sys.stderr.isatty() and total:
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
            click.echo(f"send: {rep.sent} sent, {rep.failed} failed, {rep.deferred} deferred of {rep.total}; "
                       f"{rep.sent / max(time.monotonic() - rep.started, 1e-9):.0f}/s", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _sender(c: Context) -> Sender:
    return Sender(c.digest, Schedule.from_config(c.settings.schedule))


def _send(c: Context, concurrency: int = 4, rate: float | None = None, issue: Issue | None = None,
          join: bool = False, resume_only: bool = False) -> None:
    """The send of `digest send` and `digest run`: whatever is due, through the one send path.

    ``resume_only``: only what earlier runs left half sent."""
    d, sender = c.digest, _sender(c)
    interrupted = sender.interrupted()
    shown = issue or (interrupted[-1] if interrupted else d.current_issue())
    click.echo(f"send: issue {shown.week} via {d.transport(shown).describe()}, {concurrency} at a time"
               + (f", at most {rate:g}/s" if rate else ""))
    quiet = logging.getLogger().level >= logging.ERROR
    progress: _Progress | None = None

    def report(rep: DeliveryReport) -> None:
        nonlocal progress
        if progress is None:
            progress = _Progress(rep.total, quiet)
        progress(rep)

    options = d.send_options(concurrency, rate)
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
        if outcome.report is None:
            click.echo(f"send: {outcome.text}")
            continue
        click.echo(f"send: issue {outcome.week}: {_send_line(outcome.report)}; {c.elapsed()}")
        sent = d.db.issues.of_week(outcome.week)
        if not d.settings.smtp.host and sent is not None:
            p = d.preview(issue=sent)
            click.echo(f"outbox: {d.outbox_folder(sent).resolve()}")
            click.echo(f"preview: {p.html.resolve()}")


@cli.command("send-test")
@click.option("--to", "to", multiple=True, required=True, help="An address to send the test to (repeatable).")
@pass_ctx
@handle_errors
def send_test(c: Context, to: tuple[str, ...]) -> None:
    """Send the draft to the given addresses only, with [TEST] in the subject; nothing is recorded.

    \b
    Example:
      digest send-test --to editor@example.org --to colleague@example.org
    """
    n = c.digest.send_test(list(to))
    click.echo(f"send-test: {n} of {len(to)} sent; {c.elapsed()}")
    if n == 0:
        sys.exit(1)


@cli.command()
@_send_options
@pass_ctx
@handle_errors
def run(c: Context, concurrency: int, rate: float | None) -> None:
    """Collect, build this week's issue and send it: the one command for cron.

    Running it again in the same week sends nothing new.

    \b
    Example:
      0 7 * * mon  cd /srv/digest && digest -q run
    """
    d = c.digest
    rep = d.collect()
    _print_failures(rep)
    click.echo(f"collect: {_collect_line(rep)}")
    try:
        issue = d.build()
    except NothingToSend as exc:
        click.echo(f"build: {exc}; {c.elapsed()}")
        if _sender(c).interrupted():  # an earlier week's send that stopped half way is finished now
            _send(c, concurrency, rate, resume_only=True)
        return
    click.echo(f"build: issue {issue.week} ({issue.status}): {len(issue.articles)} articles; {issue.subject}")
    _send(c, concurrency, rate, issue)


@cli.group("issue")
def issue_group() -> None:
    """Edit the draft from the terminal: the same overrides as the editor's web pages.

    Edits are kept as overrides, so rebuilding the draft later in the week keeps them.

    \b
    Example:
      digest issue show && digest issue exclude 12 && digest issue pin 7
    """


def _show(issue: Issue) -> None:
    click.echo(f"issue {issue.week} ({issue.status})\nsubject:   {issue.subject}\npreheader: {issue.preheader}")
    for sec in issue.sections:
        click.echo(f"\n[{sec.topic}] {sec.name}")
        for a in sec.articles:
            click.echo(f"  {a.id:>5}  {a.title}  ({a.source}, {a.published:%d %b})")


@issue_group.command("show")
@pass_ctx
@handle_errors
def issue_show(c: Context) -> None:
    """Show the draft: subject, preheader, sections and each article's number.

    \b
    Example:
      digest issue show
    """
    _show(c.digest.current_issue())


def _edit_command(action: Action) -> None:
    """The `digest issue NAME` command of one editing action, its arguments and help from the table."""
    def command(c: Context, **kw: Any) -> None:
        target = str(kw[action.target.name]) if action.target else ""
        value = str(kw[action.value.name]) if action.value else ""
        _show(perform(c.digest, action.name, target, value))

    params: list[click.Parameter] = []
    for param in (action.target, action.value):
        if param is not None:
            kind = click.INT if param.number else click.Choice(param.choices) if param.choices else click.STRING
            params.append(click.Argument([param.name], type=kind, metavar=param.metavar))
    help_text = f"{action.help}\n\n\b\nExample:\n  {action.example}"
    issue_group.command(action.name, help=help_text, params=params)(pass_ctx(handle_errors(command)))


for _action in ACTIONS.values():
    _edit_command(_action)


@issue_group.command("check")
@click.option("--links", "with_links", is_flag=True, help="Also fetch every link and report errors.")
@click.option("--topics", help="Check the variant for these topics (comma-separated).")
@pass_ctx
@handle_errors
def issue_check(c: Context, with_links: bool, topics: str | None) -> None:
    """Check the draft: size against Gmail's clipping, alt text, empty sections, unsubscribe link, subject.

    \b
    Example:
      digest issue check --links
    """
    findings = c.digest.check(frozenset(parse_topics(topics)) or None, with_links)
    for f in findings:
        click.echo(f"{f.level:>7}  {f.check}: {f.message}")
    if any(f.level == "error" for f in findings):
        sys.exit(1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option("--proxies", default=0, show_default=True, type=click.IntRange(0, 5),
              help="Reverse proxies in front whose X-Forwarded-For/-Proto/-Host headers are trusted.")
@pass_ctx
@handle_errors
def serve(c: Context, host: str, port: int, threads: int, proxies: int) -> None:
    """Run the web side under waitress: subscribe, confirm, unsubscribe, preferences, the issue archive.

    Links in emails are built from base_url in digest.toml; point it at where this server is reached.

    \b
    Example:
      digest serve --host 127.0.0.1 --port 8000     # behind a reverse proxy: add --proxies 1
    """
    from waitress import serve as waitress_serve

    from .db.migrate import upgrade_database
    from .web import create_app

    upgrade_database(c.settings.database_url)
    app = create_app(c.settings, digest=c.digest, proxies=proxies)
    click.echo(f"serve: http://{host}:{port}/ (links in emails use {c.settings.base_url}); Ctrl-C stops")
    waitress_serve(app, host=host, port=port, threads=threads, ident="ip-digest")


@cli.command("admin-hash")
def admin_hash() -> None:
    """Print a password hash for DIGEST_ADMIN_PASSWORD_HASH (the editor's pages of `digest serve`).

    The password is asked for twice and never echoed.

    \b
    Example:
      digest admin-hash      # then: DIGEST_ADMIN_USER=editor DIGEST_ADMIN_PASSWORD_HASH='scrypt:…' digest serve
    """
    from werkzeug.security import generate_password_hash

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        click.echo("Error: use at least 10 characters for the editor's password.", err=True)
        sys.exit(2)
    click.echo(generate_password_hash(password))


@cli.command()
@pass_ctx
@handle_errors
def daemon(c: Context) -> None:
    """Run the scheduler: collect often, build and send weekly on the [schedule] in digest.toml.

    Jobs persist in the database, so a send missed while the daemon was down runs once when it
    returns within the grace period. SIGTERM or SIGINT stops it after the message in flight;
    SIGHUP reloads digest.toml.

    \b
    Example:
      digest daemon          # under systemd: see docs/deploy.md
    """
    settings = c.settings
    if not c.quiet:
        logging.getLogger("digest").setLevel(min(logging.getLogger().level, logging.INFO))
        logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
        logging.getLogger("apscheduler").setLevel(logging.WARNING if c.verbose < 2 else logging.DEBUG)
    from .db.migrate import upgrade_database

    upgrade_database(settings.database_url)
    d = Daemon(settings, loader=lambda: load_settings(c.config))
    sys.exit(d.serve())


@cli.command()
@pass_ctx
@handle_errors
def schedule(c: Context) -> None:
    """Print each scheduled job and its next run, in the schedule's time zone.

    \b
    Example:
      digest schedule
    """
    for job in planned_jobs(c.settings):
        when = f"{job.next_run:%a %Y-%m-%d %H:%M %Z}" if job.next_run else "paused"
        note = "" if job.stored else "  (when the daemon starts)"
        click.echo(f"{job.job_id:<11} {job.spec:<28} next: {when}{note}")


@cli.command()
@pass_ctx
@handle_errors
def status(c: Context) -> None:
    """Show each source's last fetch and error, the current draft, and the last issue's deliveries.

    \b
    Example:
      digest status
    """
    st = scheduler_status(c.digest)
    click.echo("sources:")
    for row in st.sources:
        fetched = f"{row['last_fetch']:%Y-%m-%d %H:%M} UTC" if row["last_fetch"] else "never"
        state = f"error: {row['last_error']}" if row["last_error"] else "ok"
        click.echo(f"  {row['name']}: last fetch {fetched}; {state}")
    if not st.sources:
        click.echo("  none fetched yet")
    if st.draft:
        approved = f"approved {st.draft_approved:%Y-%m-%d %H:%M} UTC" if st.draft_approved else "not approved"
        click.echo(f"draft: {st.draft.week}: {len(st.draft.articles)} articles, {approved}; {st.draft.subject}")
    else:
        click.echo("draft: none")
    if st.last:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(st.last_counts.items())) or "no deliveries"
        click.echo(f"last issue: {st.last.week} ({st.last.status}): {counts}; {st.last.subject}")
    else:
        click.echo("last issue: none sent yet")


@cli.command()
@click.argument("week", required=False)
@pass_ctx
@handle_errors
def approve(c: Context, week: str | None) -> None:
    """Approve the draft (or the issue of WEEK, like 2026-W14) so the scheduled send sends it.

    \b
    Example:
      digest preview --out /tmp/draft && digest approve
    """
    issue = approve_issue(c.digest, week)
    click.echo(f"approved issue {issue.week}: {issue.subject}")


@cli.group("subscribers")
def subscribers_group() -> None:
    """Manage the audience: add, remove, list, import, export.

    \b
    Example:
      digest subscribers import readers.csv
    """


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="Display name used in the greeting.")
@click.option("--topics", default="", help="Comma-separated topic slugs (default: every topic).")
@pass_ctx
@handle_errors
def subscribers_add(c: Context, email: str, name: str, topics: str) -> None:
    """Add one subscriber (active at once: consent was given elsewhere).

    \b
    Example:
      digest subscribers add ann@example.com --name Ann --topics patents,trademarks
    """
    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    chosen = parse_topics(topics)
    known = {t.slug for t in c.digest.taxonomy.topics}
    bad = [x for x in chosen if x not in known]
    if bad:
        raise click.BadParameter(f"unknown topic {bad[0]!r}; known: {', '.join(sorted(known))}",
                                 param_hint="--topics")
    sub, added = c.digest.subscribers.add(address, clean_name(name), chosen)
    click.echo(f"added {sub.email}" if added else f"{sub.email} is already on the list ({sub.status})")


@subscribers_group.command("remove")
@click.argument("email")
@pass_ctx
@handle_errors
def subscribers_remove(c: Context, email: str) -> None:
    """Unsubscribe an address (kept as unsubscribed, so an old import never brings it back).

    \b
    Example:
      digest subscribers remove ann@example.com
    """
    if c.digest.subscribers.set_status(email.strip(), "unsubscribed"):
        click.echo(f"unsubscribed {email.strip().lower()}")
    else:
        click.echo(f"{email} is not on the list", err=True)
        sys.exit(1)


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only subscribers with this status.")
@pass_ctx
@handle_errors
def subscribers_list(c: Context, status: str | None) -> None:
    """List subscribers: email, status, name and topics.

    \b
    Example:
      digest subscribers list --status active
    """
    n = 0
    for s in c.digest.subscribers.iter(status=status):
        click.echo(f"{s.email}\t{s.status}\t{s.name}\t{','.join(sorted(s.topics)) or 'all topics'}")
        n += 1
    click.echo(f"{n} subscribers", err=True)


@subscribers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def subscribers_import(c: Context, file: Path) -> None:
    """Import a CSV with a header row: email (required), name, topics.

    Every rejected row is reported with its line number; addresses already on the list
    (whatever their case or status) are skipped, so nobody who left is resubscribed.

    \b
    Example:
      digest subscribers import readers.csv
    """
    try:
        rep = import_csv(file, c.digest.subscribers, [t.slug for t in c.digest.taxonomy.topics])
    except CSVFormatError as exc:
        raise click.UsageError(f"{file}: {exc}") from None
    for line, value, reason in rep.rejected:
        click.echo(f"{file}:{line}: rejected {value!r}: {reason}", err=True)
    click.echo(f"import: {rep.added} added, {rep.duplicates} already on the list, {len(rep.rejected)} rejected")
    if rep.rejected:
        sys.exit(1)


@subscribers_group.command("export")
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
@click.option("--status", type=click.Choice(STATUSES), help="Only subscribers with this status.")
@pass_ctx
@handle_errors
def subscribers_export(c: Context, out: Any, status: str | None) -> None:
    """Write subscribers as CSV with status, topics and consent time.

    \b
    Example:
      digest subscribers export --out readers.csv
    """
    n = export_csv(c.digest.subscribers.iter(status=status), out)
    click.echo(f"export: {n} subscribers", err=True)


@cli.group("db")
def db_group() -> None:
    """The database's schema: where it stands, and bringing it to this version of ip-digest.

    Other commands stop (exit 2) when the schema is behind or ahead; `digest serve` and
    `digest daemon` upgrade it when they start.

    \b
    Example:
      digest db current
    """


@db_group.command("upgrade")
@pass_ctx
@handle_errors
def db_upgrade(c: Context) -> None:
    """Bring the database's schema to this version; says from which revision to which.

    Safe to run while other commands wait: one upgrader at a time holds the database's lock.
    Back the database up first.

    \b
    Example:
      digest db upgrade
    """
    from .db.migrate import upgrade_database

    done = upgrade_database(c.settings.database_url)
    if done.changed:
        click.echo(f"db upgrade: from {done.before.where()} to revision {done.after}")
    else:
        click.echo(f"db upgrade: already at revision {done.after}, nothing to do")


@db_group.command("current")
@pass_ctx
@handle_errors
def db_current(c: Context) -> None:
    """Print the database's schema revision and whether it is the one this version needs.

    \b
    Example:
      digest db current
    """
    from .db.migrate import database_state

    found = database_state(c.settings.database_url)
    if found.at_head:
        click.echo(f"db: revision {found.current} (head)")
    elif found.empty:
        click.echo(f"db: empty; any command makes it at revision {found.head}")
    elif found.known:
        click.echo(f"db: {found.where()}, behind revision {found.head}; run `digest db upgrade`")
    else:
        click.echo(f"db: {found.where()}, ahead of this ip-digest ({found.head}); install the newer ip-digest")


def main() -> None:
    cli(prog_name="digest")
