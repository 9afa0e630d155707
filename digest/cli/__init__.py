"""The command line: a thin skin over the library (digest.facade, digest.ops.sender, digest.ops.daemon).

Each command lives in the module of its concern and is imported only when it runs (or when ``--help``
lists it), and those modules import the heavy parts (the extractor, the ORM, the CSS inliner, the
scheduler) inside the commands, so ``digest --help`` and ``digest subscribers add`` start at once.

    weekly.py     collect, build, preview, send, send-test, run
    issue.py      digest issue …: the draft's editing actions and checks
    service.py    serve, daemon, schedule, status, approve, admin-hash
    audience.py   digest subscribers …
    schema.py     digest db …
    report.py     digest report: what happened to an issue
    search.py     digest search: the stories of sent issues that match
    bounces.py    bounces (and the feedback lines of status)
    setup.py      init
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from .context import Context

COMMANDS = {
    "collect": "weekly",
    "build": "weekly",
    "preview": "weekly",
    "send": "weekly",
    "send-test": "weekly",
    "run": "weekly",
    "issue": "issue",
    "serve": "service",
    "daemon": "service",
    "schedule": "service",
    "status": "service",
    "approve": "service",
    "admin-hash": "service",
    "subscribers": "audience",
    "db": "schema",
    "report": "report",
    "search": "search",
    "bounces": "bounces",
    "init": "setup",
}


class LazyGroup(click.Group):
    """A group whose commands are imported from their module when first asked for."""

    def __init__(self, *args: Any, commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """With --log-format json, click's own errors (a bad option, an unknown command) and anything
        unexpected are JSON lines on stderr too."""
        argv = list(sys.argv[1:] if args is None else args)
        if not _json_requested(argv) or kwargs.get("standalone_mode", True) is False:
            return super().main(argv, *rest, **kwargs)
        from ..ops.logjson import json_line

        kwargs["standalone_mode"] = False
        try:
            code = super().main(argv, *rest, **kwargs)
        except click.ClickException as exc:
            click.echo(json_line(exc.format_message(), logging.ERROR, "digest.cli"), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo(json_line("aborted", logging.ERROR, "digest.cli"), err=True)
            sys.exit(1)
        except Exception as exc:  # a bug: its traceback as one JSON line, not as text
            logging.getLogger("digest").exception("failed unexpectedly: %s", exc)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)  # click.exceptions.Exit's code, in non-standalone mode

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(f"{__name__}.{self.lazy[cmd_name]}")
        found: click.Command = module.COMMANDS[cmd_name]
        return found


def _json_requested(argv: list[str]) -> bool:
    """--log-format json among the options before the command (the group's own)."""
    for i, arg in enumerate(argv):
        if arg == "--log-format=json" or (arg == "--log-format" and argv[i + 1 : i + 2] == ["json"]):
            return True
        if arg == "--" or arg in COMMANDS:
            return False
    return False


@click.group(cls=LazyGroup, commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    type=click.Path(path_type=Path),
    envvar="DIGEST_CONFIG",
    help="digest.toml to read (default: ./digest.toml, else the bundled sample sources).",
)
@click.option("-v", "--verbose", count=True, help="More log lines on stderr (-vv for debug).")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing when the command does its job (so cron mails nothing): only errors, and a send held "
    "back for approval, on stderr.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per log line, for log shippers.",
)
@click.version_option(__version__, prog_name="digest")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int, quiet: bool, log_format: str) -> None:
    """IP Digest: the week's intellectual-property protection news as one email.

    \b
    Example:
      digest run            # collect, build this week's issue, send it
    """
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if log_format == "json":
        from ..ops.logjson import JSONFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JSONFormatter())
        logging.captureWarnings(True)  # Python's warnings become JSON log lines too
    if verbose < 2:
        for noisy in ("trafilatura", "htmldate", "urllib3", "charset_normalizer", "cssutils", "premailer"):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING) if verbose else logging.ERROR)
    ctx.obj = Context(config, verbose, quiet, log_format)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    try:
        cli(prog_name="digest")
    finally:
        # The process ends here: spare the interpreter's last sweep for reference cycles through every
        # object the command loaded (about 0.15 s for the modules of a send). Files and connections are
        # closed by then, and what the sweep would free the operating system takes back at once.
        gc.freeze()
