"""The fixtures shared by the tests; what they are made of lives in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from digest.config import Settings

from .support.browser import browser
from .support.db import fresh_postgres
from .support.http import Site, serve_site
from .support.skips import pytest_runtest_logreport, pytest_sessionfinish, pytest_terminal_summary
from .support.smtp import Sink, sink_server
from .support.web import make_settings

# A test that uses one of these fixtures (or a "postgresql" parameter) must carry the marker, so that
# `-m "not postgres"` and `-m "not browser"` leave out everything that needs the server or Chromium.
__all__ = ["pytest_runtest_logreport", "pytest_sessionfinish", "pytest_terminal_summary"]  # the skip gate

NEEDS = {"postgres": ("pg_url",), "browser": ("chromium",)}


@pytest.fixture
def site() -> Iterator[Site]:
    """A loopback HTTP server; add routes with site.add(path, body)."""
    with serve_site() as s:
        yield s


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """A loopback SMTP server that keeps every message."""
    with sink_server() as sink:
        yield sink


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The test's database on each server: a SQLite file in tmp_path, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
        return
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new PostgreSQL database for this test, dropped after; skipped when the server does not answer."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Web-side settings on tmp_path (support.web.make_settings)."""
    return make_settings(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client of the module's own ``app`` fixture."""
    return app.test_client()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the module's tests (each opens its own pages)."""
    with browser() as b:
        yield b


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        for marker, fixtures in NEEDS.items():
            needs = any(name in getattr(item, "fixturenames", ()) for name in fixtures)
            needs |= marker == "postgres" and "postgresql" in params.values()
            if needs and item.get_closest_marker(marker) is None:
                missing.append(f"{item.nodeid}: add @pytest.mark.{marker} (or pytestmark in its module)")
    if missing:
        raise pytest.UsageError("tests without the marker of what they need:\n  " + "\n  ".join(missing))
