"""A real headless Chromium (Debian's package, driven by Playwright) walks subscribe → confirm → preferences →
unsubscribe against waitress on loopback, reading the confirmation link from the SMTP sink."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from digest.config import SMTPConfig
from digest.delivery.notices import drain

from .support.smtp import Sink
from .support.web import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_reader_subscribes_confirms_chooses_topics_pauses_and_leaves(
    tmp_path: Path, smtp_sink: Sink, chromium: Any
) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp) as live:
        page = chromium.new_page()
        try:
            page.set_default_timeout(15_000)

            page.goto(f"{live.base}/subscribe")
            box = page.locator("#website").bounding_box()
            assert box is None or box["x"] + box["width"] <= 0, "the honeypot is off-screen for people"
            page.fill("#email", "browser.reader@example.org")
            page.fill("#name", "Brow Ser")
            page.check("input[name=topics][value=patents]")
            page.check("input[name=topics][value=copyright]")
            page.click("button[type=submit]")
            page.wait_for_selector("text=Check your inbox")
            drain()  # the confirmation goes out from the app's mail thread

            ((_, rcpts, mail),) = smtp_sink.messages
            assert rcpts == ["browser.reader@example.org"]
            text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            confirm = re.search(rf"{re.escape(live.base)}/confirm/\S+", text)
            assert confirm
            page.goto(confirm.group(0))
            page.click("text=Yes, subscribe me")
            page.wait_for_selector("text=You are subscribed")
            sub = live.digest.subscribers.by_email("browser.reader@example.org")
            assert sub is not None and sub.status == "active" and sub.topics == {"patents", "copyright"}
            assert sub.consent_ip == "127.0.0.1" and sub.confirmed_at is not None

            page.click("text=Choose your topics")
            page.wait_for_selector("h1:has-text('Your preferences')")
            assert page.is_checked("input[name=topics][value=copyright]")
            page.uncheck("input[name=topics][value=copyright]")
            page.check("input[name=topics][value=trademarks]")
            page.check("input[name=paused]")
            page.click("button:has-text('Save')")
            page.wait_for_selector("text=Saved")
            assert page.is_visible("#paused-note")
            sub = live.digest.subscribers.by_email("browser.reader@example.org")
            assert sub is not None and sub.topics == {"patents", "trademarks"} and sub.paused

            page.uncheck("input[name=paused]")
            page.click("button:has-text('Save')")
            page.wait_for_selector("text=Saved")
            sub = live.digest.subscribers.by_email("browser.reader@example.org")
            assert sub is not None and not sub.paused and sub.mailable

            page.click("a:has-text('Unsubscribe')")
            page.wait_for_selector("h1:has-text('Unsubscribe')")
            sub = live.digest.subscribers.by_email("browser.reader@example.org")
            assert sub is not None and sub.status == "active", "opening the page alone changes nothing"
            page.click("button:has-text('Unsubscribe')")
            page.wait_for_selector("text=You are unsubscribed")
            sub = live.digest.subscribers.by_email("browser.reader@example.org")
            assert sub is not None and sub.status == "unsubscribed"
        finally:
            page.close()
