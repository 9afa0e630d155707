"""An editor's week in a real headless Chromium (Debian's package, driven by Playwright) against waitress on
loopback: sign in, exclude an article, tighten a summary, send a test to the aiosmtpd sink, approve, measure
the email inside the preview frames at 600 and 375 px by script (scroll width, type size, contrast), then
send now and follow the progress page to the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digest.config import AdminConfig, SMTPConfig

from .support.admin import HASH, PASSWORD, USER, deliveries, seed
from .support.browser import MEASURE
from .support.smtp import Sink
from .support.web import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def press(page: Any, selector: str) -> None:
    """Click like a person: bring the control into view first (the side panel sits below the two frames)."""
    button = page.locator(selector)
    button.scroll_into_view_if_needed()
    button.click()


def measure_frame(page: Any, selector: str) -> dict[str, Any]:
    frame = page.locator(selector).element_handle().content_frame()
    assert frame is not None, f"{selector} has no document"
    frame.wait_for_load_state("load")
    result: dict[str, Any] = frame.evaluate(MEASURE)
    return result


def test_an_editor_signs_in_edits_tests_approves_and_the_preview_holds_up(
    tmp_path: Path, smtp_sink: Sink, chromium: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp, admin=AdminConfig(USER, HASH)) as live:
        d = live.digest
        seed(d)
        d.subscribers.add("reader@example.org")
        d.subscribers.add("copyright.reader@example.org", topics=("copyright",))
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)

        page.goto(f"{live.base}/admin/draft")
        assert "/admin/login" in page.url, "the draft needs a login"
        page.fill("#username", USER)
        page.fill("#password", "not it")
        page.click("button:has-text('Sign in')")
        page.wait_for_selector("text=Wrong username or password")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_selector("h1:has-text('Draft')")
        assert page.url == f"{live.base}/admin/draft"

        press(page, "#a2 button:text-is('Exclude')")
        page.wait_for_selector("[data-excluded='2']")
        assert 2 not in [a.id for a in d.draft().articles]
        desktop = page.frame_locator("#frame-desktop")
        assert desktop.locator("text=Garden show wins a prize").count() == 0

        page.fill("#summary-3", "Milan's court ordered providers to block 40 streaming sites.")
        press(page, "#a3 button:has-text('Save summary')")
        desktop.locator("text=ordered providers to block 40 streaming sites").wait_for()
        page.frame_locator("#frame-phone").locator("text=ordered providers to block 40 streaming sites").wait_for()
        assert "block 40 streaming sites" in page.inner_text("#text")

        page.fill("#addresses", "colleague@example.org")
        press(page, "button:has-text('Send test')")
        page.wait_for_selector("text=Test sent to 1 of 1")
        ((_, rcpts, mail),) = smtp_sink.messages
        assert rcpts == ["colleague@example.org"] and mail["Subject"].startswith("[TEST] ")
        html = mail.get_body(("html",))
        assert html is not None and "block 40 streaming sites" in html.get_content()
        assert "Garden show" not in html.get_content()
        assert deliveries(d) == 0

        press(page, "text=Approve for the scheduled send")
        assert page.inner_text("#reach") == "2"
        page.click("button:has-text('Approve for 2 subscribers')")
        page.wait_for_selector("text=Approved issue")
        draft = d.draft()
        assert d.db.issues.approved_at(draft.id) is not None and draft.status == "draft"
        assert deliveries(d) == 0 and len(smtp_sink.messages) == 1

        figures = {}
        for selector, width in (("#frame-desktop", 600), ("#frame-phone", 375)):
            got = measure_frame(page, selector)
            figures[width] = got
            assert got["width"] == width, got
            assert got["scroll"] <= got["width"], f"horizontal scroll at {width}px: {got}"
            assert got["minFont"] >= 14, got
            assert got["minContrast"] >= 4.5, got

        press(page, "text=Send now…")
        page.click("button:has-text('Send now to 2 subscribers')")
        page.wait_for_selector(f"h1:has-text('Issue {draft.week} is sent')")  # the page refreshed itself until then
        assert page.inner_text("#done") == "2 of 2 messages done."
        assert sorted(r for _, (r,), _ in smtp_sink.messages[1:]) == [
            "copyright.reader@example.org",
            "reader@example.org",
        ]
        page.close()
    with capsys.disabled():
        for width, got in figures.items():
            print(
                f"\nadmin preview frame {width}px: scrollWidth {got['scroll']} of {got['width']}, "
                f"smallest text {got['minFont']} px, lowest contrast {got['minContrast']:.2f}:1 "
                f"({got['worst']!r})"
            )
