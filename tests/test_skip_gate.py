"""The skip gate of tests/support/skips.py: a strict run fails on a skip outside the allow-list, and says so."""

from __future__ import annotations

import pytest

from .support.skips import CORPUS_ABSENT, STRICT_VARIABLE

pytest_plugins = ["pytester"]

SUITE = f"""
import pytest

def test_runs():
    assert True

def test_needs_a_service():
    pytest.skip("Dovecot is not installed")

def test_needs_the_corpus():
    pytest.skip("{CORPUS_ABSENT}: /nowhere")
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, strict: str) -> pytest.RunResult:
    monkeypatch.setenv(STRICT_VARIABLE, strict)
    pytester.makepyfile(SUITE)
    return pytester.runpytest_subprocess("-p", "tests.support.skips", "-p", "no:cacheprovider")


def test_a_strict_run_fails_on_a_skip_outside_the_allow_list(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, "1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["skipped: 2 test(s), 1 outside the allow-list*strict*", "*Dovecot is not installed*"])


def test_a_run_that_is_not_strict_counts_skips_and_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, "")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["skipped: 2 test(s), 1 outside the allow-list*not strict*"])
