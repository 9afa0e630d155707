"""Each result on the editor's desk shows beside the control that made it, in a real headless Chromium:
the Send test result (a refusal keeps the typed addresses) and the link check. Screenshots of each result are
written to the test's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digest.config import AdminConfig, SMTPConfig

from .support.admin import HASH, PASSWORD, USER, seed
from .support.smtp import Sink
from .support.web import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEAR = 250  # px: the most a result may sit from the control that made it


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()  # relative to the viewport as it is scrolled now
    assert found is not None, f"{selector} is not shown"
    return dict(found)


def assert_beside(page: Any, result: str, control: str, shot: Path) -> None:
    """``result`` is on screen, within NEAR px of ``control``, as the page loads after the action."""
    page.screenshot(path=str(shot))
    viewport = page.viewport_size
    got, by = box(page, result), box(page, control)
    assert got["y"] >= 0 and got["y"] + got["height"] <= viewport["height"], (result, got, viewport)
    assert got["x"] >= 0 and got["x"] + got["width"] <= viewport["width"], (result, got, viewport)
    gap = max(got["y"] - (by["y"] + by["height"]), by["y"] - (got["y"] + got["height"]), 0)
    assert gap <= NEAR, (result, got, control, by)


def test_results_appear_beside_the_controls_that_made_them(tmp_path: Path, smtp_sink: Sink, chromium: Any) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp, admin=AdminConfig(USER, HASH)) as live:
        seed(live.digest, base=live.base + "/news")
        page = chromium.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(15_000)
        page.goto(f"{live.base}/admin/draft")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_selector("h1:has-text('Draft')")

        page.locator("#addresses").scroll_into_view_if_needed()
        page.fill("#addresses", "colleague@example.org, not-an-address")
        page.click("#send-test")
        page.wait_for_selector("#test-result.error")
        assert "is not an email address" in page.inner_text("#test-result")
        assert "--to" not in page.inner_text("#test-result")
        assert page.input_value("#addresses") == "colleague@example.org, not-an-address"
        assert_beside(page, "#test-result", "#send-test", tmp_path / "send-test-refused.png")
        assert smtp_sink.messages == []

        page.fill("#addresses", "colleague@example.org")
        page.click("#send-test")
        page.wait_for_selector("#test-result:has-text('Test sent to 1 of 1')")
        assert_beside(page, "#test-result", "#send-test", tmp_path / "send-test-sent.png")
        assert page.input_value("#addresses") == ""

        page.locator("#check-links").scroll_into_view_if_needed()
        page.click("#check-links")
        page.wait_for_selector("#checks .finding:has-text('not yet published')")
        assert_beside(page, "#checks .finding:has-text('not yet published')", "#check-links", tmp_path / "links.png")
        page.close()
