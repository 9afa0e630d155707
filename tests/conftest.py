"""The fixtures shared by the tests; what they are made of lives in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support.browser import browser
from .support.db import fresh_postgres
from .support.http import Site, serve_site
from .support.smtp import Sink, sink_server

# A test that uses one of these fixtures (or a "postgresql" parameter) must carry the marker, so that
# `-m "not postgres"` and `-m "not browser"` leave out everything that needs the server or Chromium.
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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new PostgreSQL database for this test, dropped after; skipped when the server does not answer."""
    with fresh_postgres() as url:
        yield url


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
