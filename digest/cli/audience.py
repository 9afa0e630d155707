"""`digest subscribers …`: add, remove, list, import, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from subscribers.model import STATUSES, SubscriberStatus
from subscribers.validation import InvalidAddress, clean_name, normalize_email, parse_topics

from .context import Context, handle_errors, pass_ctx


@click.group("subscribers")
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
    known = {t.slug for t in c.taxonomy.topics}
    bad = [x for x in chosen if x not in known]
    if bad:
        raise click.BadParameter(f"unknown topic {bad[0]!r}; known: {', '.join(sorted(known))}",
                                 param_hint="--topics")
    sub, added = c.db.subscribers.add(address, clean_name(name), chosen)
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
    if c.db.subscribers.set_status(email.strip(), SubscriberStatus.UNSUBSCRIBED):
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
    for s in c.db.subscribers.iter(status=status):
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
    from subscribers.csvio import CSVFormatError, import_csv

    try:
        rep = import_csv(file, c.db.subscribers, [t.slug for t in c.taxonomy.topics])
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
    from subscribers.csvio import export_csv

    n = export_csv(c.db.subscribers.iter(status=status), out)
    click.echo(f"export: {n} subscribers", err=True)


COMMANDS = {"subscribers": subscribers_group}
