"""Lead summaries: whole sentences from the start of an article, within a word budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import pysbd

from digest.collect.extract import collapse_whitespace, is_byline, is_dateline

__all__ = ["ends_a_sentence", "split_sentences", "summaries", "summarize", "word_count"]

_MONTHS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")

# Abbreviations that practically never end a sentence: a split after them is always wrong.
_NEVER_FINAL = frozenset(
    {
        *(f"{month}." for month in _MONTHS),
        *("fed.", "v.", "vs.", "cf."),
        *("mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "gen.", "sen.", "rep.", "gov.", "hon."),
        *("e.g.", "i.e.", "approx."),
    }
)
# Abbreviations of a numbered thing ("Art. 5", "No. 23-1234", "Sec. 101", "p. 12", "Art. III"): one only when
# a number follows; otherwise the word ends its sentence ("… obvious over the prior art. The court …").
_BEFORE_NUMBER = frozenset(
    {
        *("no.", "nos.", "art.", "arts.", "sec.", "secs.", "s.", "ss.", "para.", "paras.", "p.", "pp."),
        *("fig.", "figs.", "vol.", "ch."),
    }
)
# What follows such an abbreviation when it is one: a number, perhaps behind a register's letters ("No. 23-1234",
# "Case No. T-123/45", "No. C 12/24", "Art. 8(1)(b)"), or a Roman numeral ("Art. III").
_NUMBER = re.compile(r"\W*(?:[A-Za-z]{1,5}[-‑_ /]?){0,3}\d|\W*[IVXLC]+\b")
# Abbreviations that may end a sentence: re-join only when the next piece reads as a continuation.
_MAYBE_FINAL = frozenset(
    {
        *("u.s.", "u.k.", "e.u.", "u.n.", "inc.", "ltd.", "co.", "corp.", "llc.", "l.l.c.", "plc."),
        *("cir.", "al.", "jr.", "sr.", "bros.", "s.a.", "n.v.", "etc."),
    }
)
# Capitalised words that commonly follow "U.S.", "Inc." and the like inside a sentence.
_CONTINUATIONS = frozenset(
    {
        *("patent", "patents", "court", "courts", "supreme", "district", "trademark", "trademarks"),
        *("copyright", "customs", "dollars", "dollar", "government", "department", "congress"),
        *("senate", "house", "office", "federal", "international", "trade", "commerce", "justice"),
        *("attorney", "president", "intellectual", "ip", "law", "laws", "market", "markets"),
        *("military", "army", "navy", "embassy", "ambassador", "border", "state", "states", "citizens"),
        *("companies", "company", "firms", "officials", "authorities", "administration", "secretary"),
        *("treasury", "securities"),
    }
)
_LEADING_PUNCTUATION = "([{\"'“‘"
# A paragraph that does not end as a sentence does is a heading (a headline repeated above the text, a
# section title), whatever its length up to this many words.
_HEADING_MAX_WORDS = 25
# "Wednesday.The stabbing": two sentences whose space was lost (paragraphs joined without one).
_GLUED = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())


def _last_token(piece: str) -> str:
    words = piece.split()
    return words[-1].lstrip(_LEADING_PUNCTUATION).casefold() if words else ""


def _first_word(piece: str) -> str:
    match = re.match(r"\W*(\w+)", piece)
    return match.group(1) if match else ""


def _reads_as_continuation(piece: str) -> bool:
    if piece[:1] in ",;:)]-–—":
        return True
    word = _first_word(piece)
    if not word:
        return False
    return word[0].isdigit() or word[0].islower() or word.casefold() in _CONTINUATIONS


def _wrongly_split(previous: str, following: str) -> bool:
    token = _last_token(previous)
    if token in _NEVER_FINAL:
        return True
    if token in _BEFORE_NUMBER:
        return _NUMBER.match(following) is not None
    return token in _MAYBE_FINAL and _reads_as_continuation(following)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """The segmenter's pieces of ``text``, each with whether it is glued to the next one in the text (no
    space between them, as in "the new .brand domains": one sentence that the segmenter cut)."""
    out: list[tuple[str, bool]] = []
    at = 0
    for raw in _segmenter().segment(text):
        piece = collapse_whitespace(raw)
        if not piece:
            continue
        found = text.find(piece, at)
        end = found + len(piece) if found >= 0 else at
        at = max(at, end)
        out.append((piece, found >= 0 and end < len(text) and not text[end].isspace()))
    return out


def _rejoin(pieces: list[tuple[str, bool]]) -> list[str]:
    sentences: list[str] = []
    glued = False
    for piece, glued_to_next in pieces:
        if sentences and glued:
            sentences[-1] = f"{sentences[-1]}{piece}"  # the text as written: no space where it had none
        elif sentences and _wrongly_split(sentences[-1], piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
        glued = glued_to_next
    return sentences


def split_sentences(text: str) -> list[str]:
    """Sentences of a text as written, keeping abbreviations such as "U.S." or "No." (before a number)
    inside their sentence, and words such as ".brand" whole."""
    text = _GLUED.sub(" ", collapse_whitespace(text))
    if not text:
        return []
    return _rejoin(_pieces(text))


def ends_a_sentence(text: str) -> bool:
    """Whether ``text`` ends as a sentence does: a full stop, question or exclamation mark (perhaps inside
    quotes or brackets), not an abbreviation that a number or a name must follow ("Case No.", "Smith v.")."""
    return bool(_SENTENCE_END.search(text)) and _last_token(text) not in _NEVER_FINAL | _BEFORE_NUMBER


_INNER_END = re.compile(r"[a-z)][.!?…][\"'”’»)\]]*\s+[\"'“‘(]*[A-Z]")


def _is_heading(paragraph: str) -> bool:
    """A short paragraph that does not end as a sentence does, and holds no sentence end inside either
    (a paragraph of sentences that ends "… said:" before a quote is prose)."""
    return (
        word_count(paragraph) <= _HEADING_MAX_WORDS
        and not _SENTENCE_END.search(paragraph)
        and not _INNER_END.search(paragraph)
    )


def _body_paragraphs(paragraphs: list[str]) -> list[str]:
    """Paragraphs without leading bylines/datelines and without headings (unless that is all)."""
    texts = [collapse_whitespace(p) for p in paragraphs]
    start = 0
    while start < len(texts) and (not texts[start] or is_byline(texts[start]) or is_dateline(texts[start])):
        start += 1
    body = [t for t in texts[start:] if t]
    prose = [t for t in body if not _is_heading(t)]
    return prose or body


def _leading_sentences(paragraphs: list[str], max_words: int) -> list[str]:
    """The body's sentences, in order, up to the one that would take them over max_words (always at least
    the first): only as many paragraphs are split as the budget reaches."""
    chosen: list[str] = []
    used = 0
    for paragraph in _body_paragraphs(paragraphs):
        for sentence in split_sentences(paragraph):
            words = word_count(sentence)
            if chosen and used + words > max_words:
                return chosen
            chosen.append(sentence)
            used += words
    return chosen


def _ending(chosen: list[str]) -> str:
    """The chosen sentences up to the last that ends as a sentence does: one that leads into what follows
    ("… said:") is left out with what it leads into. A text with no sentence end at all (a lone heading, a
    list) is kept as it is."""
    while len(chosen) > 1 and not ends_a_sentence(chosen[-1]):
        chosen = chosen[:-1]
    return " ".join(chosen)


def _within(sentences: list[str], max_words: int) -> str:
    chosen: list[str] = []
    used = 0
    for sentence in sentences:
        words = word_count(sentence)
        if chosen and used + words > max_words:
            break
        chosen.append(sentence)
        used += words
    return _ending(chosen)


def summarize(paragraphs: list[str], max_words: int = 60) -> str:
    """Whole leading sentences within max_words (always at least the first sentence), ending where a
    sentence ends."""
    return _ending(_leading_sentences(paragraphs, max_words))


def summaries(paragraphs: list[str], budgets: Sequence[int]) -> list[str]:
    """``summarize(paragraphs, b)`` for each budget b, the sentences split once for all of them."""
    sentences = _leading_sentences(paragraphs, max(budgets, default=0))
    return [_within(sentences, budget) for budget in budgets]
