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


def check_subject(subject: str) -> list[Finding]:
    """A warning for each thing wrong with the subject (too long, mostly capitals), else one ok."""
    letters = [c for c in subject if c.isalpha()]
    out = []
    if len(subject) > SUBJECT_MAX:
        out.append(Finding("warning", "subject", f"{len(subject)} characters; keep it within {SUBJECT_MAX}"))
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        out.append(Finding("warning", "subject", "mostly capitals: spam filters and readers dislike it"))
    return out or [Finding("ok", "subject", f"{len(subject)} characters")]


def check_rendered(r: Rendered) -> list[Finding]:
    doc = _doc(r.html)
    return [check_size(r), check_images(doc), check_sections(doc), check_unsubscribe(r), *check_subject(r.subject)]


def links(r: Rendered) -> list[str]:
    found = re.findall(r'href="(https?://[^"]+)"', r.html)
    return sorted({u.replace("&amp;", "&") for u in found})


UNCHECKED = "not checked: private address"
UNPUBLISHED = "not yet published"


def own_links(urls: Iterable[str], web_url: str) -> list[str]:
    """The links to the draft's own pages (its web version and the anchors in it): they answer only once
    the issue is sent, so they are not fetched before."""
    return [u for u in urls if u == web_url or u.startswith((f"{web_url}#", f"{web_url}/", f"{web_url}?"))]


def check_links(results: Iterable[tuple[str, str | None]]) -> list[Finding]:
    """From (url, error or None) pairs, as the fetcher reported them; UNCHECKED for a link that was not
    fetched because its host is private (what such a host answers is nobody's business), UNPUBLISHED for
    a link to the draft's own pages. Every failure is counted and listed."""
    pairs = list(results)
    bad = [f"{url} ({err})" for url, err in pairs if err and err not in (UNCHECKED, UNPUBLISHED)]
    unchecked = [url for url, err in pairs if err == UNCHECKED]
    own = [url for url, err in pairs if err == UNPUBLISHED]
    out = []
    if bad:
        noun = "link answers" if len(bad) == 1 else "links answer"
        out.append(Finding("warning", "links", f"{len(bad)} {noun} with an error: {'; '.join(bad)}"))
    if unchecked:
        out.append(Finding("warning", "links", f"{len(unchecked)} {UNCHECKED}: {'; '.join(unchecked)}"))
    if own:
        out.append(
            Finding(
                "ok",
                "links",
                f"{len(own)} {'link' if len(own) == 1 else 'links'} to this issue's own web pages, {UNPUBLISHED}: "
                "they answer once the issue is sent",
            )
        )
    checked = len(pairs) - len(unchecked) - len(own)
    if not bad:
        out.insert(0, Finding("ok", "links", f"every one of the {checked} article links answers"))
    return out
