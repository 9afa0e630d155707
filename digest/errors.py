"""The errors IP Digest raises, each with a message that says how to fix the problem.

    DigestError                  base: every error the library raises on purpose
    ├── ConfigError              bad digest.toml or environment (exit 2)
    ├── UsageError               a command was asked for something impossible (exit 2)
    ├── SchemaMismatch           the database's schema is behind or ahead of this program (exit 2)
    ├── SourceError              one source could not be fetched or parsed (a warning)
    │   └── NotPublic            a URL was not fetched: its host is on a private network
    ├── NothingToSend            no issue, no articles or no subscribers (exit 0 or 1)
    │   └── NoDraft              no draft to edit or show: says when the last issue went (exit 1)
    └── DeliveryError            the mail server refused the work (exit 1)
        └── SMTPConnectionError  no connection, TLS or login to the mail server

The CLI turns each into a one-line message and the exit status of the contract.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(DigestError):
    """A setting is missing or wrong; the message names the file (or variable) and key."""

    exit_code = 2

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where, self.key, self.problem = where, key, problem
        super().__init__(f"{where}: {key}: {problem}")


class UsageError(DigestError):
    exit_code = 2


class SchemaMismatch(DigestError):
    """The database is at another schema revision; the message names the command that fixes it."""

    exit_code = 2


class SourceError(DigestError):
    """One source failed; ``source`` names it and the message says why."""

    def __init__(self, source: str, reason: str) -> None:
        self.source, self.reason = source, reason
        super().__init__(f"source {source!r} failed: {reason}")


class NotPublic(SourceError):
    """A URL on a private, loopback or otherwise non-public address that the operator did not allow."""


class NothingToSend(DigestError):
    exit_code = 0


class NoDraft(NothingToSend):
    """An editing command found no draft to work on (exit 1: the command could not do its job)."""

    exit_code = 1


class DraftChanged(DigestError):
    """The draft was edited or rebuilt after the editor looked at it: look again before approving or sending."""


class DeliveryError(DigestError):
    exit_code = 1


class SMTPConnectionError(DeliveryError):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            f"cannot deliver through {host}:{port}: {reason}. "
            "Check SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME and SMTP_PASSWORD."
        )
