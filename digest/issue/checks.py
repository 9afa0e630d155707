"""Checks an editor sees beside the preview: size, images, sections, unsubscribe link, subject (pure),
and optionally links that answer with an error (network)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import html as lxml_html

from .render import MARK, Rendered

GMAIL_CLIP = 102_000
SUBJECT_MAX = 78


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning" | "ok"
    check: str
    message: str


def _doc(page: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(page.encode("utf-8"))


def check_size(r: Rendered) -> Finding:
    if r.size >= GMAIL_CLIP:
        return Finding("error", "size", f"{r.size:,} bytes: Gmail clips messages over {GMAIL_CLIP:,} bytes")
    return Finding("ok", "size", f"{r.size:,} bytes of Gmail's {GMAIL_CLIP:,}")


def check_images(doc: lxml_html.HtmlElement) -> Finding:
    missing = [img.get("src", "?") for img in doc.iter("img") if not (img.get("alt") or "").strip()]
    if missing:
        return Finding("warning", "alt text", f"{len(missing)} images without alt text: {', '.join(missing[:3])}")
    return Finding("ok", "alt text", "every image has alt text")


def check_sections(doc: lxml_html.HtmlElement) -> Finding:
    empty = [
        h.text_content().strip() for h in doc.find_class("section-title") if not h.getparent().find_class("article")
    ]
    if empty:
        return Finding("error", "sections", f"empty sections: {', '.join(empty)}")
    return Finding("ok", "sections", "no empty section")


def check_unsubscribe(r: Rendered) -> Finding:
    marker = MARK["unsubscribe_url"]
    if f'href="{marker}"' not in r.html or marker not in r.text:
        return Finding("error", "unsubscribe", "no unsubscribe link in the HTML or the text part")
    return Finding("ok", "unsubscribe", "visible unsubscribe link in both parts")


def check_subject(subject: str) -> Finding:
    letters = [c for c in subject if c.isalpha()]
    if len(subject) > SUBJECT_MAX:
        return Finding("warning", "subject", f"{len(subject)} characters; keep it within {SUBJECT_MAX}")
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return Finding("warning", "subject", "mostly capitals: spam filters and readers dislike it")
    return Finding("ok", "subject", f"{len(subject)} characters")


def check_rendered(r: Rendered) -> list[Finding]:
    doc = _doc(r.html)
    return [check_size(r), check_images(doc), check_sections(doc), check_unsubscribe(r), check_subject(r.subject)]


def links(r: Rendered) -> list[str]:
    found = re.findall(r'href="(https?://[^"]+)"', r.html)
    return sorted({u.replace("&amp;", "&") for u in found})


UNCHECKED = "not checked: private address"


def check_links(results: Iterable[tuple[str, str | None]]) -> Finding:
    """From (url, error or None) pairs, as the fetcher reported them; UNCHECKED for a link that was not
    fetched because its host is private (what such a host answers is nobody's business)."""
    pairs = list(results)
    bad = [f"{url} ({err})" for url, err in pairs if err and err != UNCHECKED]
    unchecked = [url for url, err in pairs if err == UNCHECKED]
    parts = []
    if bad:
        parts.append(
            f"{len(bad)} {'link answers' if len(bad) == 1 else 'links answer'} with an error: {'; '.join(bad[:5])}"
        )
    if unchecked:
        parts.append(f"{UNCHECKED}: {'; '.join(unchecked[:5])}")
    if parts:
        return Finding("warning", "links", "; ".join(parts))
    return Finding("ok", "links", "every link answers")
