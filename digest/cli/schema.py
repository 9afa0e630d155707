"""`digest db …`: where the database's schema stands, and bringing it to this version."""

from __future__ import annotations

import click

from .context import Context, handle_errors, pass_ctx


@click.group("db")
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
    from ..storage import upgrade_database

    done = upgrade_database(c.settings.database_url)
    if done.changed:
        c.say(f"db upgrade: from {done.before.where()} to revision {done.after}")
    else:
        c.say(f"db upgrade: already at revision {done.after}, nothing to do")


@db_group.command("current")
@pass_ctx
@handle_errors
def db_current(c: Context) -> None:
    """Print the database's schema revision and whether it is the one this version needs.

    \b
    Example:
      digest db current
    """
    from ..storage import HEAD, database_state, sqlite_file

    path = sqlite_file(c.settings.database_url)
    if path is not None and not path.exists():
        click.echo(f"db: no database at {path} yet; the first command that writes makes it at revision {HEAD}")
        return
    found = database_state(c.settings.database_url)
    if found.at_head:
        click.echo(f"db: revision {found.current} (head)")
    elif found.empty:
        click.echo(f"db: empty; any command makes it at revision {found.head}")
    elif found.known:
        click.echo(f"db: {found.where()}, behind revision {found.head}; run `digest db upgrade`")
    else:
        click.echo(f"db: {found.where()}, ahead of this ip-digest ({found.head}); install the newer ip-digest")


COMMANDS = {"db": db_group}
