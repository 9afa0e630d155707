"""`digest subscribers …`: add, remove, list, import, export, show, forget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from subscribers.model import STATUSES, Change, SubscriberStatus
from subscribers.validation import InvalidAddress, clean_name, match_topics, normalize_email, parse_topics

from ..errors import DigestError
from .context import Context, fail, handle_errors, pass_ctx


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
@click.option(
    "--jurisdictions",
    default="",
    help="Comma-separated jurisdiction codes: ISO 3166 alpha-2 (us, de, gb), eu, upc, int (default: all).",
)
@pass_ctx
@handle_errors
def subscribers_add(c: Context, email: str, name: str, topics: str, jurisdictions: str) -> None:
    """Add one subscriber (active at once: consent was given elsewhere).

    \b
    Example:
      digest subscribers add ann@example.com --name Ann --topics patents,trademarks --jurisdictions upc,eu
    """
    from ..collect.jurisdictions import is_code, parse_codes

    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    known = [t.slug for t in c.taxonomy.topics]
    chosen, bad = match_topics(parse_topics(topics), known)
    if bad:
        raise click.BadParameter(f"unknown topic {bad[0]!r}; known: {', '.join(sorted(known))}", param_hint="--topics")
    if _erased(c, address):
        raise DigestError(
            f"{address} was erased on request (`subscribers forget`) and is on the suppression list; only a "
            "sign-up that the person confirms brings it back"
        )
    places = parse_codes(jurisdictions)
    strange = [x for x in places if not is_code(x)]
    if strange:
        raise click.BadParameter(
            f"unknown jurisdiction {strange[0]!r}; use ISO 3166 alpha-2 country codes (us, de, gb), or eu, upc, int",
            param_hint="--jurisdictions",
        )
    sub, added = c.audience.add(address, clean_name(name), chosen, source="cli", jurisdictions=places)
    c.say(f"added {sub.email}" if added else f"{sub.email} is already on the list ({sub.status})")


def _erased(c: Context, address: str) -> bool:
    """Whether ``address`` is on the suppression list (as ``Digest.erased_among``, without loading the
    pipeline: this command opens only the database and the audience)."""
    return bool(c.database.erased_among([address], c.settings.secret_key))


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
    address = email.strip().lower()
    sub = c.audience.by_email(address)
    if sub is None:
        fail(f"{email} is not on the list")
    if c.audience.change_status(address, Change.UNSUBSCRIBE, source="cli") is not None:
        c.say(f"unsubscribed {address}")
    else:
        c.say(f"{address} is {sub.status} already: nothing to change")


LIST_STATUSES = (*STATUSES, "paused")


def _filter(status: str | None) -> dict[str, Any]:
    """``--status`` as iter() arguments: 'paused' is an active subscriber who paused; 'active' is one who did not."""
    if status == "paused":
        return {"status": SubscriberStatus.ACTIVE, "paused": True}
    if status == SubscriberStatus.ACTIVE:
        return {"status": status, "paused": False}
    return {"status": status}


@subscribers_group.command("list")
@click.option(
    "--status",
    type=click.Choice(LIST_STATUSES),
    help="Only subscribers with this status (paused: active but paused; active: receiving issues).",
)
@pass_ctx
@handle_errors
def subscribers_list(c: Context, status: str | None) -> None:
    """List subscribers: email, status (paused shown as such), name and topics.

    \b
    Example:
      digest subscribers list --status paused
    """
    n = 0
    for s in c.existing_audience.iter(**_filter(status)):
        shown = "paused" if s.paused and s.status == SubscriberStatus.ACTIVE else s.status
        click.echo(f"{s.email}\t{shown}\t{s.name}\t{','.join(sorted(s.topics)) or 'all topics'}")
        n += 1
    c.note(f"{n} subscribers")


@subscribers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--consent",
    "basis",
    default="",
    metavar="TEXT",
    help="How everyone in the file agreed to receive the newsletter; required when the file has no "
    "confirmed_at / consent_source column. Recorded in each person's history.",
)
@pass_ctx
@handle_errors
def subscribers_import(c: Context, file: Path, basis: str) -> None:
    """Import a CSV with a header row: email (required), name, topics, jurisdictions (codes such as
    upc,eu), and consent columns (confirmed_at as ISO 8601, consent_source, consent_ip).

    Imported rows are active; confirmed_at is set only from the file. Every rejected row is reported
    with its line number; addresses already on the list (whatever their case or status) are skipped,
    so nobody who left is resubscribed, and so are addresses erased with `forget`.

    Exit status: 0 when no row was rejected (skipped duplicates and erased addresses included); 1 when
    any row was rejected, the good rows being imported all the same; 2 when the file has no header
    with an email column, is not UTF-8, or says nothing of consent (see --consent).

    \b
    Example:
      digest subscribers import readers.csv --consent "signed up at the 2026 conference"
    """
    from subscribers.csvio import ConsentMissing, CSVFormatError, import_csv

    from ..collect.jurisdictions import all_codes

    try:
        rep = import_csv(
            file,
            c.audience,
            [t.slug for t in c.taxonomy.topics],
            basis,
            suppressed=c.digest.erased_among,
            known_jurisdictions=all_codes(),
        )
    except (CSVFormatError, ConsentMissing) as exc:
        raise click.UsageError(f"{file}: {exc}") from None
    for line, value, reason in rep.rejected:
        c.tell(f"{file}:{line}: rejected {value!r}: {reason}")
    for line in rep.suppressed:
        c.note(
            f"{file}:{line}: skipped: this address was erased on request (`forget`); only a sign-up "
            "that its owner confirms can add it again"
        )
    summary = (
        f"import: {rep.added} added, {rep.duplicates} already on the list, {len(rep.rejected)} rejected, "
        f"{len(rep.suppressed)} erased on request"
    )
    if rep.rejected:
        fail(f"{summary}; fix the rejected rows and import the file again (the rows taken are skipped then)")
    c.say(summary)


@subscribers_group.command("export")
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
@click.option("--status", type=click.Choice(LIST_STATUSES), help="Only subscribers with this status.")
@pass_ctx
@handle_errors
def subscribers_export(c: Context, out: Any, status: str | None) -> None:
    """Write subscribers as CSV with status, paused, topics and consent time; cells that a spreadsheet
    would run as formulas start with a quote.

    \b
    Example:
      digest subscribers export --out readers.csv
    """
    from subscribers.csvio import export_csv

    n = export_csv(c.existing_audience.iter(**_filter(status)), out)
    c.note(f"export: {n} subscribers")


@subscribers_group.command("show")
@click.argument("email")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON document (what a person may ask for under GDPR articles 15 and 20).",
)
@pass_ctx
@handle_errors
def subscribers_show(c: Context, email: str, as_json: bool) -> None:
    """Show one person's record and consent history.

    \b
    Example:
      digest subscribers show ann@example.com --json
    """
    from subscribers.report import person, person_text

    doc = person(c.audience, email)
    if doc is None:
        fail(f"{email} is not on the list")
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False) if as_json else person_text(doc))


@subscribers_group.command("forget")
@click.argument("email")
@pass_ctx
@handle_errors
def subscribers_forget(c: Context, email: str) -> None:
    """Erase a person: record, history and deliveries. Only a keyed hash of the address is kept, so a
    later import skips it; a sign-up that the person confirms can still add it again.

    \b
    Example:
      digest subscribers forget ann@example.com
    """
    try:
        address = normalize_email(email)
    except InvalidAddress:
        address = email.strip().lower()
    if not c.digest.forget(address):
        fail(f"{email} is not on the list")
    c.say(f"erased {address}; a keyed hash of the address stays on the suppression list")


COMMANDS = {"subscribers": subscribers_group}
