"""What every command shares: the settings, the database and the Digest (each opened on first use), and one
way to fail. A command asks for the least it needs: ``c.audience`` and ``c.taxonomy`` open no extractor,
renderer or inliner, so `digest subscribers …` never imports them."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..config import Settings, load_settings
from ..errors import DigestError, NothingToSend, UsageError

if TYPE_CHECKING:
    from subscribers.store import SubscriberStore

    from ..collect.topics import Taxonomy
    from ..facade import Digest
    from ..storage import Database

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    def __init__(self, config: Path | None, verbose: int = 0, quiet: bool = False) -> None:
        self.config, self.verbose, self.quiet = config, verbose, quiet
        self._digest: Digest | None = None
        self._db: Database | None = None
        self.started = time.monotonic()

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings(self.config)

    @property
    def database(self) -> Database:
        """The database alone (the Digest, once opened, shares it)."""
        if self._db is None:
            from ..storage import Database

            self._db = Database(self.settings.database_url)
        return self._db

    @functools.cached_property
    def taxonomy(self) -> Taxonomy:
        from ..collect.topics import Taxonomy

        return Taxonomy(self.settings.topics)

    @property
    def digest(self) -> Digest:
        if self._digest is None:
            from ..facade import Digest

            self._digest = Digest(self.settings, self.database)
        return self._digest

    def require_database(self) -> None:
        """For a command that only reads: a SQLite database that is not there is never made."""
        from ..storage import sqlite_file

        path = sqlite_file(self.settings.database_url)
        if path is not None and not path.exists():
            raise UsageError(
                f"no database at {path}: nothing to read there. Run the command in the folder of "
                "your digest.toml, pass --config FILE, or set DIGEST_DATABASE_URL"
            )

    @property
    def audience(self) -> SubscriberStore:
        """The subscribers, without opening the Digest (`digest subscribers …` imports no renderer)."""
        return self._digest.subscribers if self._digest is not None else self.database.subscribers

    @property
    def existing_audience(self) -> SubscriberStore:
        """The subscribers of a command that only reads (see require_database)."""
        self.require_database()
        return self.audience

    @property
    def existing_digest(self) -> Digest:
        """The Digest of a command that only reads (see require_database)."""
        self.require_database()
        return self.digest

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

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


pass_ctx = click.make_pass_decorator(Context)
