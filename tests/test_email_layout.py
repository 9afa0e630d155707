"""The rendered email in a real browser at desktop and phone widths: no horizontal scroll, readable
type, enough contrast; measured by script, not by comparing pixels."""

from __future__ import annotations

import re
from typing import Any

import pytest

from digest.issue.render import Renderer, personalize

from .support.browser import MEASURE
from .support.data import ALSO_CARRIED, MORE_STORIES, STORIES, WHO, composed_issue


@pytest.fixture(scope="module")
def email_html() -> str:
    rendered = Renderer("https://d.example").render(composed_issue([*STORIES, *ALSO_CARRIED, *MORE_STORIES]))
    assert rendered is not None
    return personalize(rendered, WHO)[0]


def measure(chromium: Any, html: str, width: int) -> dict[str, Any]:
    page = chromium.new_page(viewport={"width": width, "height": 900})
    page.set_content(html, wait_until="load")
    result: dict[str, Any] = page.evaluate(MEASURE)
    page.close()
    return result


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", [600, 375])
def test_layout_holds_at_desktop_and_phone_width(chromium: Any, email_html: str, width: int) -> None:
    got = measure(chromium, email_html, width)
    assert got["scroll"] <= got["width"], f"horizontal scroll at {width}px: {got}"
    assert got["minFont"] >= 14, got
    assert got["minContrast"] >= 4.5, got


def test_email_uses_tables_a_colour_scheme_and_a_text_button(email_html: str) -> None:
    assert not re.search(r"display\s*:\s*(flex|grid)", email_html)
    assert '<meta name="color-scheme" content="light dark">' in email_html
    button = re.search(r'<td class="button-cell"[^>]*>\s*<a class="button"[^>]*>([^<]+)</a>', email_html)
    assert button and button.group(1).strip()
    assert "<img" not in email_html
    assert "In this issue" in email_html and "Top story" in email_html and "Also covered by" in email_html
