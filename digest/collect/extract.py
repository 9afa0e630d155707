"""Main-text extraction: article pages and feed HTML fragments to clean paragraphs."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

import lxml.etree
import lxml.html
import trafilatura
from lxml.etree import _Element

from digest.collect.pagetree import reader_view

__all__ = [
    "clean_paragraphs",
    "extract_paragraphs",
    "html_to_paragraphs",
    "is_byline",
    "is_dateline",
]

_HTML_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_XML_BLOCKS = frozenset(
    {
        "doc",
        "main",
        "p",
        "head",
        "list",
        "item",
        "quote",
        "code",
        "table",
        "row",
    }
)
_HTML_SKIPPED = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "svg",
        "form",
        "button",
        "select",
        "textarea",
        "head",
    }
)
_XML_SKIPPED = frozenset({"comments", "graphic"})
_LINE_BREAKS = frozenset({"br", "lb"})
# A table's row is one paragraph, its cells words apart within it.
_SPACED = frozenset({"cell", "td", "th"})
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_BLANK_LINE = re.compile(r"\n\s*\n")
MAX_EXTRACT_CHARS = 300_000
_CODE_OPEN = re.compile(r"<(script|style|svg)\b|<!--", re.IGNORECASE)
_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z]|!--)")


def collapse_whitespace(text: str) -> str:
    """Single spaces between words, no invisible characters, no outer spaces."""
    return " ".join(_INVISIBLE.sub("", text).split())


# ---------------------------------------------------------------------------
# Boilerplate recognition
# ---------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[a-z]{2,4})?)?"
_DATE = (
    rf"(?:{_WEEKDAY}\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}})"
    rf"{_TIME}"
)
_DATELINE = re.compile(
    rf"(?:(?:posted|published|updated|last updated|date)(?:\s+on)?:?\s+)?{_DATE}"
    r"(?:\s*(?:by\s+[^.!?]{1,60}|[|·•-]\s*\d+\s+min(?:ute)?s?\s+read))?",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"(?:(?:posted|written|words|reported|story|text|article)\s+)?by\s+[^.!?]{1,80}"
    r"|(?:author|authors|posted by|written by)\s*:\s*[^.!?]{1,80}",
    re.IGNORECASE,
)
_BYLINE_MAX_WORDS = 10

_CAPTION = re.compile(
    r"(?:image|photo|picture|illustration|graphic|video|featured image|header image)s?"
    r"(?:\s+(?:source|credit|courtesy))?s?\s*:"
    r"|(?:photo|image)?\s*credits?\s*:|caption\s*:|photograph\s*:"
    r"|(?:photo|image|picture)s?\s+(?:by|via|courtesy(?:\s+of)?|source)\b",
    re.IGNORECASE,
)
_CAPTION_TRAILER = re.compile(
    r"\((?:photo|image|picture|credit|source)[^)]*\)\s*$"
    r"|(?:/|\|)\s*(?:getty images|reuters|afp|ap photo|ap|shutterstock|alamy|epa)\s*\)?\s*$",
    re.IGNORECASE,
)
_CAPTION_MAX_WORDS = 40

_JUNK_PREFIXES = (
    "share this",
    "like this:",
    "like loading",
    "your email address will not be published",
    "required fields are marked",
    "you are commenting using your",
    "fill in your details below",
    "this site uses akismet",
    "subscribe to get the latest posts",
    "proudly powered by wordpress",
    "connecting to %s",
    "click to share on",
    "click to email",
    "click to print",
    "log out /",
    "notify me of new comments",
    "notify me of new posts",
    "save my name, email, and website",
    "discover more from",
    "type your email",
    "sorry, your blog cannot share posts by email",
    # publishers' notices, promotions and sign-up calls that open or close an article
    "this copy is for your personal, non-commercial use only",
    "to order presentation-ready copies",
    "start your day with",
    "sign up for our",
    "sign up for the",
    "subscribe to our newsletter",
    "get our newsletter",
    "get the latest headlines",
    "this article was originally published",
    "this story was originally published",
    "click here to subscribe",
)
_SHORT_JUNK_PREFIXES = ("continue reading", "read more", "read the full", "share on", "tweet this")
_SHORT_JUNK_MAX_WORDS = 15
_SOCIAL_WORDS = frozenset(
    {
        "facebook",
        "twitter",
        "x",
        "linkedin",
        "email",
        "e-mail",
        "print",
        "reddit",
        "whatsapp",
        "telegram",
        "pinterest",
        "tumblr",
        "pocket",
        "mastodon",
        "bluesky",
        "threads",
        "share",
        "tweet",
        "more",
        "copy",
        "link",
        "photo",
        "opens",
        "in",
        "new",
        "window",
        "mail",
        "sms",
    }
)
_PUNCTUATION_ONLY = re.compile(r"[\W_]*")
_URL_ONLY = re.compile(r"(?:https?://|www\.)\S+")
_ELLIPSIS_ONLY = re.compile(r"[\[(]?\s*(?:…|\.\.\.)\s*[\])]?")
_COMMENT_MARKER = re.compile(
    r"(?:leave a (?:reply|comment|response)|comments?|\d+\s+(?:comments?|responses?|replies)"
    r"|related (?:posts?|articles?|stories|reading|content)|you (?:may|might) also like"
    r"|comments are closed|join the (?:conversation|discussion)|post a comment"
    r"|\d+\s+thoughts? on\b.*|(?:one|\d+) (?:response|reply|comment)s? to\b.*)"
    r"(?:\s*cancel reply)?\s*:?",
    re.IGNORECASE,
)
_APPEARED_FIRST = re.compile(
    r"\s*(?:The post|This post|The article)\s+.+?\s+(?:appeared|was published) first on\s+.+?\.?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def _key(text: str) -> str:
    return collapse_whitespace(text).casefold().replace("’", "'")


def _words(text: str) -> int:
    return len(text.split())


def is_byline(text: str) -> bool:
    """True for a short author line such as "By Jane Doe" or "Posted by admin"."""
    line = collapse_whitespace(text)
    return _words(line) <= _BYLINE_MAX_WORDS and _BYLINE.fullmatch(line) is not None


def is_dateline(text: str) -> bool:
    """True for a line holding only a date, e.g. "Posted on 3 May 2026"."""
    return _DATELINE.fullmatch(collapse_whitespace(text)) is not None


def _is_caption(line: str) -> bool:
    if _words(line) > _CAPTION_MAX_WORDS:
        return False
    return _CAPTION.match(line) is not None or _CAPTION_TRAILER.search(line) is not None


def _is_social(key: str) -> bool:
    words = re.findall(r"[\w-]+", key)
    return bool(words) and all(word in _SOCIAL_WORDS for word in words)


def _is_junk(line: str) -> bool:
    key = _key(line)
    if key.startswith(_JUNK_PREFIXES):
        return True
    if key.startswith(_SHORT_JUNK_PREFIXES) and _words(key) <= _SHORT_JUNK_MAX_WORDS:
        return True
    if _PUNCTUATION_ONLY.fullmatch(key) or _ELLIPSIS_ONLY.fullmatch(key) or _URL_ONLY.fullmatch(key):
        return True
    return _is_social(key) or key in {"related", "facebook photo", "advertisement"}


def _is_comment_marker(line: str) -> bool:
    return _COMMENT_MARKER.fullmatch(collapse_whitespace(line)) is not None


def _is_boilerplate(line: str) -> bool:
    return _is_junk(line) or _is_caption(line) or is_byline(line) or is_dateline(line)


def _strip_footer(paragraph: str) -> str:
    return _APPEARED_FIRST.sub("", paragraph).strip()


def clean_paragraphs(paras: list[str]) -> list[str]:
    """Drop boilerplate paragraphs; stop at the comment section."""
    kept: list[str] = []
    for raw in paras:
        line = _strip_footer(collapse_whitespace(raw))
        if _is_comment_marker(line):
            break
        if line and not _is_boilerplate(line):
            kept.append(line)
    return kept


# ---------------------------------------------------------------------------
# Tree to paragraphs
# ---------------------------------------------------------------------------


def _tag_name(element: _Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return tag.rpartition("}")[2].lower()


class _BlockWalker:
    """Turns an element tree into paragraphs: one per block, split at double line breaks."""

    def __init__(self, blocks: frozenset[str], skipped: frozenset[str]) -> None:
        self.blocks = blocks
        self.skipped = skipped
        self.paragraphs: list[str] = []
        self._buffer: list[str] = []
        self._after_break = False

    def walk(self, element: _Element) -> list[str]:
        self._visit(element)
        self._flush()
        return self.paragraphs

    def _visit(self, element: _Element) -> None:
        tag = _tag_name(element)
        if tag is None or tag in self.skipped:
            return
        if tag in _LINE_BREAKS:
            self._line_break()
        elif tag in self.blocks:
            self._visit_block(element)
        else:
            self._visit_inline(element)

    def _visit_block(self, element: _Element) -> None:
        self._flush()
        self._visit_inline(element)
        self._flush()

    def _visit_inline(self, element: _Element) -> None:
        if _tag_name(element) in _SPACED:
            self._buffer.append(" ")
        self._add(element.text)
        for child in element:
            self._visit(child)
            self._add(child.tail)

    def _line_break(self) -> None:
        if self._after_break:
            self._flush()
        else:
            self._buffer.append(" ")
            self._after_break = True

    def _add(self, text: str | None) -> None:
        if text:
            self._buffer.append(text)
            if text.strip():
                self._after_break = False

    def _flush(self) -> None:
        text = collapse_whitespace("".join(self._buffer))
        if text:
            self.paragraphs.append(text)
        self._buffer = []
        self._after_break = False


def _html_paragraphs(elements: Iterable[_Element]) -> list[str]:
    paragraphs: list[str] = []
    for element in elements:
        paragraphs.extend(_BlockWalker(_HTML_BLOCKS, _HTML_SKIPPED).walk(element))
    return paragraphs


def _plain_text_paragraphs(text: str) -> list[str]:
    return [collapse_whitespace(part) for part in _BLANK_LINE.split(text)]


def _looks_like_html(text: str) -> bool:
    return _TAG.search(text) is not None


def _fragment_paragraphs(fragment: str) -> list[str]:
    document = lxml.html.document_fromstring(f"<html><body><div>{fragment}</div></body></html>")
    body = document.find("body")
    return _html_paragraphs([body]) if body is not None else []


def html_to_paragraphs(fragment: str) -> list[str]:
    """Paragraphs of a feed entry's HTML content (or plain text) fragment."""
    if not fragment or not fragment.strip():
        return []
    if not _looks_like_html(fragment):
        return clean_paragraphs(_plain_text_paragraphs(html.unescape(fragment)))
    try:
        return clean_paragraphs(_fragment_paragraphs(fragment))
    except (lxml.etree.LxmlError, ValueError):
        return []


# ---------------------------------------------------------------------------
# Article pages
# ---------------------------------------------------------------------------


def _trafilatura_paragraphs(page: _Element | str, url: str | None) -> list[str]:
    xml = trafilatura.extract(
        page,
        url=url,
        output_format="xml",
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        deduplicate=False,
    )
    if not xml:
        return []
    root = lxml.etree.fromstring(xml.encode("utf-8"), lxml.etree.XMLParser(recover=True))
    if root is None:
        return []
    paragraphs: list[str] = []
    for main in root.iter("main"):
        paragraphs.extend(_BlockWalker(_XML_BLOCKS, _XML_SKIPPED).walk(main))
    return paragraphs


def _fallback_paragraphs(html: str) -> list[str]:
    document = lxml.html.document_fromstring(html)
    return _html_paragraphs(document.iter("p"))


def _cleaned(extractor: Callable[[], list[str]]) -> list[str]:
    try:
        return clean_paragraphs(extractor())
    except Exception:
        return []


_TITLE_XPATH = "//title/text() | //meta[@property='og:title']/@content | //meta[@name='twitter:title']/@content"
_LEADING_CHECKED = 3


def _page_titles(page: _Element | str) -> list[str]:
    """The page's headline as its <title>, og:title and twitter:title give it (comparable keys); read from
    the tree the extractor is given, before it changes it."""
    try:
        document = lxml.html.document_fromstring(page) if isinstance(page, str) else page
    except (lxml.etree.LxmlError, ValueError):
        return []
    found = document.xpath(_TITLE_XPATH)
    headings = [collapse_whitespace(h.text_content()) for h in document.iter("h1")][:2]
    return [_key(str(t)) for t in [*found, *headings] if _words(str(t)) >= 3]


def _without_headline(paragraphs: list[str], titles: list[str]) -> list[str]:
    """The paragraphs without the headline repeated at their start (the page's title, which the
    extractor may take for text)."""
    start = 0
    while (
        start < min(len(paragraphs), _LEADING_CHECKED)
        and _words(paragraphs[start]) >= 3
        and any(_key(paragraphs[start]) in title for title in titles)
    ):
        start += 1
    return paragraphs[start:]


def _without_code(html: str) -> str:
    """``html`` without its scripts, styles, inline SVG and comments, in one pass (an element left open drops
    the rest of the page): on real pages they are most of the bytes before the article."""
    lower = html.lower()
    kept: list[str] = []
    pos = 0
    while (found := _CODE_OPEN.search(html, pos)) is not None:
        kept.append(html[pos : found.start()])
        closer = f"</{found.group(1).lower()}" if found.group(1) else "-->"
        end = lower.find(closer, found.end())
        if end < 0:
            return "".join(kept)
        pos = end + len(closer) if closer == "-->" else lower.find(">", end) + 1 or len(html)
    kept.append(html[pos:])
    return "".join(kept)


def extract_paragraphs(html: str, url: str | None = None) -> list[str]:
    """Clean paragraphs of an article page's main text, without its headline; [] when there is none. Only
    the first MAX_EXTRACT_CHARS characters of the page are read: an article's lead comes early, and the
    extractor's cost grows faster than the page (a 7 MB page of 100,000 paragraphs took 47 s)."""
    if not html or not html.strip():
        return []
    html = _without_code(html)[:MAX_EXTRACT_CHARS] if len(html) > MAX_EXTRACT_CHARS else html
    try:
        page = reader_view(html)  # parsed once: the titles are read from it, then it goes to the extractor
    except Exception:
        page = html
    titles = _page_titles(page)
    paragraphs = _cleaned(lambda: _trafilatura_paragraphs(page, url)) or _cleaned(lambda: _fallback_paragraphs(html))
    return _without_headline(paragraphs, titles) if paragraphs else []
