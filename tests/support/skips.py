"""The one list of reasons a test may be skipped in a strict run.

A strict run (``DIGEST_STRICT_SKIPS=1``, as ``.ci/run`` sets it) fails when any test is skipped for a reason
that does not start with one of ``ALLOWED``; every run prints how many tests were skipped and why. Outside
a strict run a missing service (Dovecot, Chromium, PostgreSQL) skips its tests with the way to fix it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

STRICT_VARIABLE = "DIGEST_STRICT_SKIPS"

CORPUS_ABSENT = "the shared test corpus is not on this machine"

ALLOWED: tuple[str, ...] = (CORPUS_ABSENT,)


def strict() -> bool:
    """True when a skip outside ``ALLOWED`` fails the run."""
    return os.environ.get(STRICT_VARIABLE, "") not in ("", "0")


def allowed(reason: str) -> bool:
    """True when ``reason`` (pytest's "Skipped: …" text or the bare reason) is one the allow-list admits."""
    bare = reason.removeprefix("Skipped: ")
    return bare.startswith(ALLOWED)


# -- skips: counted on every run, and outside the allow-list of support/skips.py a strict run fails ----------

_SKIPPED: list[tuple[str, str]] = []  # (test id, reason), as the controlling process sees the reports


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if strict() and any(not allowed(reason) for _, reason in _SKIPPED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    unexpected = [(test, reason) for test, reason in _SKIPPED if not allowed(reason)]
    mode = f"strict ({STRICT_VARIABLE}=1)" if strict() else "not strict"
    terminalreporter.write_line(
        f"skipped: {len(_SKIPPED)} test(s), {len(unexpected)} outside the allow-list of tests/support/skips.py [{mode}]"
    )
    for test, reason in unexpected:
        terminalreporter.write_line(f"  unexpected skip: {test}: {reason}", red=strict())
