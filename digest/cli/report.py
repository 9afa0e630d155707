"""digest report: what happened to an issue."""

from __future__ import annotations

import json

import click

from ..errors import UsageError
from ..models import IssueStatus
from .context import Context, handle_errors, pass_ctx


@click.command()
@click.argument("issue", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV rows: issue, section, name, value.")
@pass_ctx
@handle_errors
def report(c: Context, issue: str | None, as_json: bool, as_csv: bool) -> None:
    """Report on ISSUE (a week like 2026-W48; default: the last issue sent): deliveries, bounces,
    unsubscribes after it, and the clicks that count when [tracking] clicks = true.

    \b
    Example:
      digest report 2026-W48 --csv > w48.csv
    """
    from ..ops import reports

    if as_json and as_csv:
        raise UsageError("give --json or --csv, not both")
    d = c.existing_digest
    found = d.issue_of_week(issue) if issue else d.latest_issue((IssueStatus.SENDING, IssueStatus.SENT))
    if found is None:
        raise UsageError(
            f"no issue {issue}; see `digest status`"
            if issue
            else "no issue has been sent yet; name one: digest report 2026-W48"
        )
    rep = reports.issue_report(d, found)
    if as_json:
        click.echo(json.dumps(reports.as_dict(rep), indent=2))
    elif as_csv:
        click.echo(reports.as_csv(rep), nl=False)
    else:
        click.echo(reports.as_text(rep), nl=False)


COMMANDS = {"report": report}
