"""What every command shares: the settings, the database and the Digest (each opened on first use), and one
way to fail. A command asks for the least it needs: ``c.audience`` and ``c.taxonomy`` open no extractor,
renderer or inliner, so `digest subscribers …` never imports them."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

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
    def __init__(self, config: Path | None, verbose: int = 0, quiet: bool = False, log_format: str = "text") -> None:
        self.config, self.verbose, self.quiet = config, verbose, quiet
        self.json = log_format == "json"
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

    def chosen_topics(self, raw: str | None) -> frozenset[str] | None:
        """A --topics value as the taxonomy's slugs (a singular name as its plural); None when empty."""
        from subscribers.validation import match_topics, parse_topics

        known = [t.slug for t in self.taxonomy.topics]
        found, unknown = match_topics(parse_topics(raw), known)
        if unknown:
            raise click.BadParameter(f"unknown topic {unknown[0]!r}; known: {', '.join(known)}", param_hint="--topics")
        return frozenset(found) or None

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

    def say(self, text: str) -> None:
        """A line that tells how the work went, on stdout; none with -q, so cron mails nothing on success."""
        if not self.quiet:
            click.echo(text)

    def tell(self, text: str, level: int = logging.WARNING) -> None:
        """A line on stderr that the operator must see even with -q: an error, or work left undone."""
        stderr(text, level, self.json)

    def note(self, text: str) -> None:
        """A line on stderr beside a command's output (counts, progress); none with -q."""
        if not self.quiet:
            stderr(text, logging.INFO, self.json)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"


def stderr(text: str, level: int = logging.ERROR, as_json: bool = False) -> None:
    """One line on stderr: as written, or with --log-format json one JSON object like the log's lines."""
    if as_json:
        from ..ops.logjson import json_line

        click.echo(json_line(text, level, "digest.cli"), err=True)
    else:
        click.echo(text, err=True)


def current() -> Context | None:
    """The running command's Context (None outside a command, or before the group has made it)."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_object(Context) if ctx is not None else None


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """Stop the command: ``message`` on stderr ("Error: …", or a JSON line), exit ``exit_code``."""
    c = current()
    as_json = c is not None and c.json
    stderr(message if as_json else f"Error: {message}", logging.ERROR, as_json)
    sys.exit(exit_code)


def handle_errors(func: F) -> F:
    """Every DigestError becomes a one-line message and the exit status of the contract."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NothingToSend as exc:
            c = current()
            if c is not None:
                c.say(str(exc))
            else:
                click.echo(str(exc))
            sys.exit(exc.exit_code)
        except DigestError as exc:
            fail(str(exc), exc.exit_code)

    return wrapper  # type: ignore[return-value]


pass_ctx = click.make_pass_decorator(Context)
