"""In a real headless Chromium: the archive's search page and an email with register links hold up at
desktop and phone widths (no horizontal scroll, type size, contrast) and every form control has a label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digest.issue.render import Renderer, personalize
from digest.models import IssueStatus

from .support.browser import MEASURE
from .support.data import WHO, composed_issue, story
from .support.web import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""

STORIES = [
    story(
        1,
        "Board revokes EP 3 512 904 B1 on standard-essential claims, and a long title that has to wrap on phones",
        ("patents",),
        summary="The opposition division revoked EP3512904B1; the appeal in UPC_CoA_335/2023 and T-456/22 follow.",
    ),
    story(2, "Mark cancelled: EUTM No. 018123456", ("trademarks",), summary="U.S. Reg. No. 5,123,456 stays."),
]


@pytest.mark.parametrize("width", [1280, 375])
def test_the_search_page_holds_up_and_labels_every_control(tmp_path: Path, chromium: Any, width: int) -> None:
    with live_server(tmp_path) as live:
        db = live.digest.db
        issue = db.issues.save_draft(composed_issue(STORIES))
        db.issues.set_status(issue.id, IssueStatus.SENT)
        page = chromium.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(f"{live.base}/issues/search?q=EP+3512904")
            page.wait_for_selector("text=Stories found")
            assert page.evaluate(UNLABELLED) == []
            got: dict[str, Any] = page.evaluate(MEASURE)
            assert got["scroll"] <= got["width"], f"horizontal scroll at {width}px: {got}"
            assert got["minFont"] >= 13, got
            assert got["minContrast"] >= 4.5, got
            href = page.get_attribute("a.register-link", "href")
            assert href == "https://worldwide.espacenet.com/patent/search?q=pn%3DEP3512904B1"
        finally:
            page.close()


@pytest.mark.parametrize("width", [600, 375])
def test_an_email_with_register_links_holds_up(chromium: Any, width: int) -> None:
    rendered = Renderer("https://d.example").render(composed_issue(STORIES))
    assert rendered is not None
    html = personalize(rendered, WHO)[0]
    page = chromium.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(html, wait_until="load")
        got: dict[str, Any] = page.evaluate(MEASURE)
        links = page.evaluate("() => document.querySelectorAll('a.register-link').length")
    finally:
        page.close()
    assert links == 5  # EP, UPC and CURIA in the first summary, the EUTM of a title, the US registration
    assert got["scroll"] <= got["width"], f"horizontal scroll at {width}px: {got}"
    assert got["minFont"] >= 14 and got["minContrast"] >= 4.5, got
