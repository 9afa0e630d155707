"""What the collect reads from an entry's or an article page's text: the lead that topics are read from,
the summary that is stored, the word count, and whether a feed's entry is only an excerpt.

Pure CPU work on plain values (HTML in, strings out), so the collect runs it in the extraction pool's
worker processes (digest/extractpool.py) and keeps only the network and the database for itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .extract import html_to_paragraphs
from .extractpool import page_paragraphs
from .summarize import summaries, word_count

THIN_WORDS = 60
LEAD_WORDS = 80  # the opening words that topics are read from, with the title
TRUNCATION = re.compile(
    r"(\[\s*(…|\.\.\.|&hellip;|&#8230;)\s*\]|…|\.\.\.|Continue reading.*|Read more.*)\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class ArticleText:
    """What the collect keeps of a text (its paragraphs stay in the process that read them)."""

    lead: str  # the opening sentences within LEAD_WORDS: no byline, dateline, heading or boilerplate
    summary: str  # the opening sentences within the configured summary length
    words: int  # of all the paragraphs


@dataclass(frozen=True)
class EntryText:
    text: ArticleText  # of the entry's content, or of its excerpt when it has none
    thin: bool  # the feed carries only an excerpt and the page must be fetched


def read_text(paragraphs: list[str], summary_words: int) -> ArticleText:
    lead, summary = summaries(paragraphs, (LEAD_WORDS, summary_words))
    return ArticleText(lead, summary, word_count(" ".join(paragraphs)))


def thin_content(content_html: str, paragraphs: list[str]) -> bool:
    """True when ``content_html``, whose paragraphs are given, is empty, short or cut off."""
    if not content_html.strip():
        return True
    text = " ".join(paragraphs)
    return word_count(text) < THIN_WORDS or bool(TRUNCATION.search(text))


def entry_text(content_html: str, excerpt_html: str, summary_words: int) -> EntryText:
    """An entry's text from its content, or from its excerpt when the feed carries no content."""
    paragraphs = html_to_paragraphs(content_html or excerpt_html)
    return EntryText(read_text(paragraphs, summary_words), thin_content(content_html, paragraphs))


def entry_texts(entries: list[tuple[str, str]], summary_words: int) -> list[EntryText]:
    """``entry_text`` of each (content_html, excerpt_html): one source's entries, one call."""
    return [entry_text(content, excerpt, summary_words) for content, excerpt in entries]


def page_text(body: bytes, url: str, summary_words: int) -> ArticleText | None:
    """An article page's text; None when the page has no article text."""
    paragraphs = page_paragraphs(body, url)
    return read_text(paragraphs, summary_words) if paragraphs else None
