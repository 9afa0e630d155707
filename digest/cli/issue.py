"""`digest issue …`: the draft's editing actions (from the table in digest.issue.editing) and its checks."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ..issue.editing import ACTIONS, Action, changes, perform
from .context import Context, handle_errors, pass_ctx

if TYPE_CHECKING:
    from ..models import Article, Issue


@click.group("issue")
def issue_group() -> None:
    """Edit the draft from the terminal: the same overrides as the editor's web pages.

    Edits are kept as overrides, so rebuilding the draft later in the week keeps them.

    \b
    Example:
      digest issue show && digest issue exclude 12 && digest issue pin 7
    """


def _show(issue: Issue, excluded: list[Article]) -> None:
    click.echo(f"issue {issue.week} ({issue.status})\nsubject:   {issue.subject}\npreheader: {issue.preheader}")
    for sec in issue.sections:
        click.echo(f"\n[{sec.topic}] {sec.name}")
        for a in sec.articles:
            click.echo(f"  {a.id:>5}  {a.title}  ({a.source}, {a.published:%d %b})")
    if issue.preheader_fixed:
        click.echo(
            "the editor's preheader speaks of "
            + (", ".join(f"#{i}" for i in issue.preheader_about) if issue.preheader_about else "the whole issue")
        )
    click.echo("\nexcluded" + ("" if excluded else ": none"))
    for a in excluded:
        click.echo(f"  {a.id:>5}  {a.title}  ({a.source}, {a.published:%d %b})  `digest issue restore {a.id}`")


def _tell_preheaders(c: Context, issue: Issue) -> None:
    """Which readers get which preheader."""
    click.echo("\nwho gets which preheader:")
    for p in c.digest.preheaders(issue):
        whose = "the editor's" if p.custom else "their own"
        click.echo(f"  {p.readers:>5} readers ({'; '.join(p.choices)}), {whose}: {p.text}")


@issue_group.command("show")
@pass_ctx
@handle_errors
def issue_show(c: Context) -> None:
    """Show the draft: subject, preheader, sections and each article's number.

    \b
    Example:
      digest issue show
    """
    draft = c.digest.draft()
    _show(draft, c.digest.excluded(draft))
    if draft.preheader_fixed:
        _tell_preheaders(c, draft)


def _edit_command(action: Action) -> None:
    """The `digest issue NAME` command of one editing action, its arguments and help from the table."""

    def command(c: Context, **kw: Any) -> None:
        target = str(kw[action.target.name]) if action.target else ""
        value = str(kw[action.value.name]) if action.value else ""
        before = c.digest.draft()
        excluded_before = len(c.digest.excluded(before))
        after = perform(c.digest, action.name, target, value)
        excluded = c.digest.excluded(after)
        done = changes(before, after, excluded_before, len(excluded))
        if done:
            click.echo("changed:\n" + "\n".join(f"  {line}" for line in done) + "\n")
        else:
            click.echo(f"nothing changed: the draft already was that way ({action.name})\n")
        _show(after, excluded)
        if action.kind == "preheader":
            _tell_preheaders(c, after)

    params: list[click.Parameter] = []
    for param in (action.target, action.value):
        if param is not None and param.optional:
            flag = f"--{param.option or param.name}"
            params.append(click.Option([flag, param.name], default="", metavar=param.metavar, help=param.help))
        elif param is not None:
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
    findings = c.digest.check(c.chosen_topics(topics), with_links)
    for f in findings:
        click.echo(f"{f.level:>7}  {f.check}: {f.message}")
    if any(f.level == "error" for f in findings):
        sys.exit(1)


COMMANDS = {"issue": issue_group}
