"""The rendered email in a real browser at desktop and phone widths: no horizontal scroll, readable
type, enough contrast; measured by script, not by comparing pixels."""

from __future__ import annotations

import re
from typing import Any

import pytest

from digest.render import Renderer, personalize

from .browser import browser
from .test_render import WHO, issue

MEASURE = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = {scroll: document.documentElement.scrollWidth, width: window.innerWidth, minFont: 99, minContrast: 99,
               worst: ''};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode; if (!node.textContent.trim()) continue;
    const el = node.parentElement; const st = getComputedStyle(el);
    if (el.closest('.preheader')) continue;
    const r = el.getBoundingClientRect(); if (r.width === 0 || r.height === 0) continue;
    const size = parseFloat(st.fontSize); if (size < out.minFont) out.minFont = size;
    const fg = parse(st.color), back = bg(el); const l1 = lum(fg), l2 = lum(back);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < out.minContrast) { out.minContrast = ratio; out.worst = node.textContent.trim().slice(0, 40); }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def email_html() -> str:
    rendered = Renderer("https://d.example").render(issue())
    assert rendered is not None
    return personalize(rendered, WHO)[0]


def measure(html: str, width: int) -> dict[str, Any]:
    with browser() as b:
        page = b.new_page(viewport={"width": width, "height": 900})
        page.set_content(html, wait_until="load")
        result: dict[str, Any] = page.evaluate(MEASURE)
        page.close()
    return result


@pytest.mark.parametrize("width", [600, 375])
def test_layout_holds_at_desktop_and_phone_width(email_html: str, width: int) -> None:
    got = measure(email_html, width)
    assert got["scroll"] <= got["width"], f"horizontal scroll at {width}px: {got}"
    assert got["minFont"] >= 14, got
    assert got["minContrast"] >= 4.5, got


def test_email_uses_tables_a_colour_scheme_and_a_text_button(email_html: str) -> None:
    assert not re.search(r"display\s*:\s*(flex|grid)", email_html)
    assert '<meta name="color-scheme" content="light dark">' in email_html
    button = re.search(r'<td class="button-cell"[^>]*>\s*<a class="button"[^>]*>([^<]+)</a>', email_html)
    assert button and button.group(1).strip()
    assert "<img" not in email_html
