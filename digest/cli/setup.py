"""digest init: a commented digest.toml and .env to start from."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from ..errors import UsageError
from .context import handle_errors

STARTER_TOML = """\
# IP Digest settings. Relative paths here resolve against this file's folder.
# The secrets and the mail server live in the environment or in .env beside this file.

[newsletter]
title = "IP Protection Weekly"
sender = "IP Digest <digest@example.org>"       # From: of every issue
base_url = "https://digest.example.org"         # where `digest serve` answers: unsubscribe, web version
# reply_to = "editor@example.org"
# unsubscribe_mailto = "leave@example.org"      # a mailto: in List-Unsubscribe besides the https link
# summary_words = 60

# One table per feed: RSS or Atom, over http(s), or a file path.
[[sources]]
name = "IP Wire"
url = "https://ipwire.example/tag/ip-protection/feed/"

# [[topics]]                                    # extends the built-in IP taxonomy
# name = "Standard-essential patents"
# tags = ["sep", "frand"]

# [[jurisdictions]]                             # extends the built-in table of offices, courts, countries
# name = "Switzerland"
# code = "ch"                                   # ISO 3166 alpha-2, or eu, upc, int
# terms = ["IGE", "Swiss Federal Institute of Intellectual Property"]

[fetch]
# deadline = 30                                 # seconds for one feed or page, however slowly it arrives
# allow_hosts = ["intranet.example"]            # private hosts that article pages may come from, besides
                                                # the sources' own hosts; every other host: public only

[schedule]                                      # for `digest daemon`; cron runs `digest run` instead
# send = "mon 07:00"
# timezone = "Europe/Berlin"
"""


def starter_env() -> str:
    """The .env of `digest init`: .env.example's explanations, a fresh secret key, the rest at its default."""
    from ..envfile import starter

    return starter(secrets.token_urlsafe(32))


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@handle_errors
def init(folder: Path) -> None:
    """Write a commented digest.toml and .env to start from (never over existing files).

    \b
    Example:
      mkdir /srv/digest && cd /srv/digest && digest init
    """
    toml, env = folder / "digest.toml", folder / ".env"
    for path in (toml, env):
        if path.exists():
            raise UsageError(f"{path.resolve()} already exists; edit it, or run `digest init` in an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    toml.write_text(STARTER_TOML, encoding="utf-8")
    env.write_text(starter_env(), encoding="utf-8")
    env.chmod(0o600)
    click.echo(
        f"init: wrote {toml.resolve()} and {env.resolve()}; put your feeds in [[sources]] and SMTP_HOST "
        "in .env, then `digest run`"
    )


COMMANDS = {"init": init}
