"""The long-running sides and their views: serve, daemon, schedule, status, approve, admin-hash."""

from __future__ import annotations

import logging
import os
import sys

import click

from ..config import load_settings
from ..models import counted
from .context import Context, fail, handle_errors, pass_ctx


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (Linux and macOS): one per core the web side may use. "
    "The sign-up rate limits count per process.",
)
@click.option(
    "--proxies",
    default=0,
    show_default=True,
    type=click.IntRange(0, 5),
    help="Reverse proxies in front whose X-Forwarded-For/-Proto/-Host headers are trusted.",
)
@pass_ctx
@handle_errors
def serve(c: Context, host: str, port: int, threads: int, processes: int, proxies: int) -> None:
    """Run the web side under waitress: subscribe, confirm, unsubscribe, preferences, the issue archive.

    Links in emails are built from base_url in digest.toml; point it at where this server is reached.

    \b
    Example:
      digest serve --host 127.0.0.1 --port 8000     # behind a reverse proxy: add --proxies 1
      digest serve --processes 2                    # two server processes: twice the requests a second
    """
    from ..storage import upgrade_database
    from ..web import create_app
    from ..web.serving import listen, serve_many, serve_one

    if processes > 1 and not hasattr(os, "fork"):
        fail("--processes needs fork (Linux or macOS); run one process per port behind a proxy instead")
    upgrade_database(c.settings.database_url)
    sock = listen(host, port)
    click.echo(f"serve: http://{host}:{port}/ (links in emails use {c.settings.base_url}); Ctrl-C stops")
    if processes == 1:
        serve_one(create_app(c.settings, digest=c.digest, proxies=proxies), sock, threads)
        click.echo("serve: stopped")
        return
    c.digest.close()  # each process opens its own after the fork
    status = serve_many(lambda: create_app(c.settings, proxies=proxies), sock, threads, processes)
    click.echo("serve: stopped")
    if status:
        sys.exit(status)


@click.command("admin-hash")
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
        fail("use at least 10 characters for the editor's password.", 2)
    click.echo(generate_password_hash(password))


@click.command()
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address of the metrics server.")
@pass_ctx
@handle_errors
def daemon(c: Context, metrics_port: int | None, metrics_host: str) -> None:
    """Run the scheduler: collect often, build and send weekly on the [schedule] in digest.toml.

    Jobs persist in the database, so a send missed while the daemon was down runs once when it
    returns within the grace period. SIGTERM or SIGINT stops it after the message in flight;
    SIGHUP reloads digest.toml.

    \b
    Example:
      digest daemon --metrics-port 9108     # under systemd: see docs/deploy.md
    """
    settings = c.settings
    if not c.quiet:
        logging.getLogger("digest").setLevel(min(logging.getLogger().level, logging.INFO))
        logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
        logging.getLogger("apscheduler").setLevel(logging.WARNING if c.verbose < 2 else logging.DEBUG)
    from ..storage import upgrade_database

    upgrade_database(settings.database_url)
    if c.verbose < 2:  # the upgrade was told; a health check or a metrics scrape reads the revision silently
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from ..ops.daemon import Daemon

    d = Daemon(settings, loader=lambda: load_settings(c.config))
    server = None
    if metrics_port is not None:
        from ..ops.metrics import serve_metrics

        try:
            server, _ = serve_metrics(d.digest.health, metrics_port, metrics_host)
        except OSError as exc:
            d.digest.close()
            fail(f"--metrics-port {metrics_port}: {exc.strerror}; choose a free port", 2)
        logging.getLogger("digest").info("metrics: http://%s:%d/metrics", metrics_host, server.server_port)
    try:
        code = d.serve()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    sys.exit(code)


@click.command()
@pass_ctx
@handle_errors
def schedule(c: Context) -> None:
    """Print each scheduled job and its next run, in the schedule's time zone.

    Before the daemon's first run the jobs are planned from digest.toml alone; nothing is written.

    \b
    Example:
      digest schedule
    """
    from ..ops.daemon import planned_jobs

    jobs = planned_jobs(c.settings)
    for job in jobs:
        when = f"{job.next_run:%a %Y-%m-%d %H:%M %Z}" if job.next_run else "paused"
        note = "" if job.stored else "  (when the daemon starts)"
        click.echo(f"{job.job_id:<11} {job.spec:<28} next: {when}{note}")
    if not any(job.stored for job in jobs):
        click.echo("no runs yet: `digest daemon` has not started on this database")


@click.command()
@pass_ctx
@handle_errors
def status(c: Context) -> None:
    """Show each source's last fetch and error, the current draft, and the last issue's deliveries.

    \b
    Example:
      digest status
    """
    from ..ops.daemon import status as scheduler_status

    st = scheduler_status(c.existing_digest)
    configured = {s.name for s in c.settings.sources} | {s.url for s in c.settings.sources}
    click.echo("sources:")
    for row in st.sources:
        fetched = f"{row['last_fetch']:%Y-%m-%d %H:%M} UTC" if row["last_fetch"] else "never"
        state = f"error: {row['last_error']}" if row["last_error"] else "ok"
        gone = "" if {row["name"], row.get("url")} & configured else " (no longer in digest.toml)"
        click.echo(f"  {row['name']}{gone}: last fetch {fetched}; {state}")
    if not st.sources:
        click.echo("  none fetched yet")
    if st.draft:
        approved = f"approved {st.draft_approved:%Y-%m-%d %H:%M} UTC" if st.draft_approved else "not approved"
        click.echo(
            f"draft: {st.draft.week}: {counted(len(st.draft.articles), 'article')}, {approved}; {st.draft.subject}"
        )
    else:
        click.echo("draft: none")
    if st.last:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(st.last_counts.items())) or "no deliveries"
        click.echo(f"last issue: {st.last.week} ({st.last.status}): {counts}; {st.last.subject}")
    else:
        click.echo("last issue: none sent yet")
    from .bounces import feedback_lines

    lines = feedback_lines(c.digest)
    if lines:
        click.echo("what came back:")
        for line in lines:
            click.echo(line)


@click.command()
@click.argument("week", required=False)
@pass_ctx
@handle_errors
def approve(c: Context, week: str | None) -> None:
    """Approve the draft (or the issue of WEEK, like 2026-W14) so the scheduled send sends it.

    \b
    Example:
      digest preview --out /tmp/draft && digest approve
    """
    issue = c.digest.approve(week)
    c.say(f"approved issue {issue.week}: {issue.subject}")


COMMANDS = {
    "serve": serve,
    "daemon": daemon,
    "schedule": schedule,
    "status": status,
    "approve": approve,
    "admin-hash": admin_hash,
}
